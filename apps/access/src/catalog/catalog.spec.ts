import { readFileSync } from 'node:fs';
import { CatalogError, parseCatalog } from './catalog.js';
import { loadCatalog, shippedCatalogDir } from './catalog.loader.js';

const shipped = (name: string) => readFileSync(`${shippedCatalogDir()}${name}.yaml`, 'utf8');

function problemsOf(text: string): string[] {
  try {
    parseCatalog(text, 'test.yaml');
  } catch (error) {
    if (error instanceof CatalogError) return error.problems;
    throw error;
  }
  throw new Error('expected the catalogue to be refused');
}

describe('the shipped catalogues', () => {
  it('voximplant: 24 sections, 12 roles, MainAccount as owner', () => {
    const catalog = loadCatalog('voximplant');
    expect(catalog.sections).toHaveLength(24);
    expect(catalog.roles).toHaveLength(12);
    expect(catalog.ownerRole).toBe('MainAccount');
    expect(catalog.sections.filter((s) => s.scope === 'application').map((s) => s.key)).toContain('scenarios');
  });

  it('workspace: Admin, Editor, Viewer on account-scoped sections', () => {
    const catalog = loadCatalog('workspace');
    expect(catalog.roles.map((r) => r.name)).toEqual(['Admin', 'Editor', 'Viewer']);
    expect(catalog.sections.every((s) => s.scope === 'account')).toBe(true);
    expect(catalog.sections.find((s) => s.key === 'analytics')!.actions).toEqual(['read', 'export']);
  });

  it('a missing file is a clear error', () => {
    expect(() => loadCatalog('/nonexistent/catalog.yaml')).toThrow('Cannot read the access catalogue /nonexistent/catalog.yaml');
  });
});

describe('a broken catalogue stops with the line and field of each problem', () => {
  const base = shipped('workspace');
  const everyRole =
    'roles: [MainAccount, PhoneNumberManager, Owner, Admin, Developer, Supervisor, Support, Accountant, CallListManager, UserManager, Payer, PayerNoVerify]';

  it.each([
    [
      'an unknown role in a grant',
      base.replace('Viewer: [read] }, note: "Viewer read: I" }', 'Viewr: [read] }, note: "x" }'),
      /line \d+, sections\.\d+\.grants\.Viewr: unknown role "Viewr"/,
    ],
    ['an unknown action', base.replace('actions: [read, write, delete, start, export]', 'actions: [read, write, delete, start]'), /action "export"/],
    ['a bad scope', base.replace('{ key: members,', '{ key: members, scope: tenant,'), /line \d+, sections\.0\.scope: must be account or application/],
    ['a duplicate key', base.replace('{ key: billing,', '{ key: members,'), /sections\.1\.key: "members" appears twice/],
    ['an unmapped Portico permission', base.replace('  audit:read: logs:read\n', ''), /system\.audit:read: is missing/],
    [
      'a mapping to nothing',
      base.replace('audit:read: logs:read', 'audit:read: logs:fly'),
      /system\.audit:read: "logs:fly" is not member, owner or an existing section:action/,
    ],
    ['a missing name', base.replace('name: workspace\n', ''), /name: is required/],
    ['a typo in a section key', base.replace('{ key: billing,', '{ key: billing, scoop: application,'), /sections\.1\.scoop: unknown key "scoop"/],
    ['a typo at the top level', base.replace('name: workspace\n', 'name: workspace\nownerrole: Boss\n'), /line \d+, ownerrole: unknown key "ownerrole"/],
    ['roles that are not a list', shipped('voximplant').replace(everyRole, 'roles: Admin'), /sections\.0\.roles: must be a list/],
    [
      'an action named twice',
      base.replace('actions: [read, write, delete, start, export]', 'actions: [read, read, write, delete, start, export]'),
      /actions: names "read" twice/,
    ],
    ['a role named twice', base.replace('roles: [Admin, Editor, Viewer]', 'roles: [Admin, Editor, Viewer, Admin]'), /roles: names "Admin" twice/],
    ['a mapping with a third part', base.replace('audit:read: logs:read', 'audit:read: logs:read:junk'), /system\.audit:read: "logs:read:junk" is not member/],
  ])('%s', (_label, text, pattern) => {
    expect(problemsOf(text).join('\n')).toMatch(pattern);
  });

  it('reads an empty roles key as no roles, as before', () => {
    const emptyRoles = shipped('voximplant').replace(everyRole, 'roles: ');
    expect(() => parseCatalog(emptyRoles, 'test.yaml')).not.toThrow();
  });

  it('reports YAML syntax errors with their line', () => {
    expect(problemsOf('name: x\nactions: [read\nroles: []')[0]).toMatch(/^line \d+:/);
  });

  it('reports every problem at once', () => {
    const text = base.replace('{ key: members,', '{ key: members, scope: tenant,').replace('name: workspace\n', '');
    expect(problemsOf(text).length).toBeGreaterThanOrEqual(2);
  });
});

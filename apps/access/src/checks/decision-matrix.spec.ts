import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { loadCatalog, shippedCatalogDir } from '../catalog/catalog.loader.js';
import { BUILTIN_ROLE_PREFIX, DecisionStore } from './decision-store.js';

/**
 * Every cell of both shipped catalogues: role x section x action, unlimited and limited to one
 * application. The expected answer is read from the catalogue file with a plain YAML parse,
 * following the files' own rules, independently of the loader and the engine under test.
 */
const ACCOUNT = '00000000-0000-4000-8000-00000000000a';
const APP_A = '00000000-0000-4000-8000-0000000000a1';
const APP_B = '00000000-0000-4000-8000-0000000000b2';
const OWNER = { type: 'user' as const, id: '00000000-0000-4000-8000-000000000001' };

interface RawSection {
  key: string;
  scope?: string;
  roles?: string[];
  grants?: Record<string, string[]>;
}
interface RawCatalog {
  actions: string[];
  roles: string[];
  sections: RawSection[];
}

function expectedGrant(raw: RawCatalog, section: RawSection, role: string, action: string): boolean {
  if (section.roles) return section.roles.includes(role);
  return section.grants?.[role]?.includes(action) ?? false;
}

function sectionActions(raw: RawCatalog, section: RawSection): string[] {
  if (section.roles) return raw.actions;
  return raw.actions.filter((action) => Object.values(section.grants ?? {}).some((actions) => actions.includes(action)));
}

function storeFor(name: string, role: string, applicationIds: string[] | null) {
  const store = new DecisionStore(loadCatalog(name));
  const principal = { type: 'subuser' as const, id: '00000000-0000-4000-8000-000000000002' };
  store.replaceAccount({
    accountId: ACCOUNT,
    version: 1,
    ownerId: OWNER.id,
    roles: [],
    bindings: [{ principalType: principal.type, principalId: principal.id, roleId: BUILTIN_ROLE_PREFIX + role, applicationIds }],
    applications: [
      { id: APP_A, name: 'A' },
      { id: APP_B, name: 'B' },
    ],
    inactive: [],
  });
  return { store, principal };
}

describe.each(['voximplant', 'workspace'])('the %s catalogue, cell by cell', (name) => {
  const raw = parse(readFileSync(`${shippedCatalogDir()}${name}.yaml`, 'utf8')) as RawCatalog;
  const cells = raw.roles.flatMap((role) => raw.sections.flatMap((section) => sectionActions(raw, section).map((action) => ({ role, section, action }))));

  it('has cells to check', () => {
    expect(cells.length).toBeGreaterThan(raw.sections.length);
  });

  it.each(cells.map((cell) => [cell.role, cell.section.key, cell.action, cell] as const))('%s %s:%s', (role, _key, action, cell) => {
    const expected = expectedGrant(raw, cell.section, role, action);
    const applicationScoped = cell.section.scope === 'application';

    const unlimited = storeFor(name, role, null);
    expect(unlimited.store.decide(unlimited.principal, ACCOUNT, cell.section.key, action).allowed).toBe(expected);
    if (applicationScoped) expect(unlimited.store.decide(unlimited.principal, ACCOUNT, cell.section.key, action, APP_B).allowed).toBe(expected);

    const limited = storeFor(name, role, [APP_A]);
    if (applicationScoped) {
      expect(limited.store.decide(limited.principal, ACCOUNT, cell.section.key, action, APP_A).allowed).toBe(expected);
      expect(limited.store.decide(limited.principal, ACCOUNT, cell.section.key, action, APP_B).allowed).toBe(false);
      expect(limited.store.decide(limited.principal, ACCOUNT, cell.section.key, action).allowed).toBe(false);
    } else {
      expect(limited.store.decide(limited.principal, ACCOUNT, cell.section.key, action).allowed).toBe(false);
    }
    expect(unlimited.store.decide(OWNER, ACCOUNT, cell.section.key, action)).toEqual({ allowed: true, reason: 'owner' });
  });
});

describe('decisions outside the grants', () => {
  const { store, principal } = storeFor('voximplant', 'Developer', [APP_A]);

  it('an unknown section or action is an error, not a silent deny', () => {
    expect(() => store.decide(principal, ACCOUNT, 'nope', 'read')).toThrow('Unknown section nope');
    expect(() => store.decide(principal, ACCOUNT, 'scenarios', 'fly')).toThrow('Section scenarios has no action fly');
  });

  it('a principal with nothing in the account is not a member (the gateway answers 404)', () => {
    expect(store.decide({ type: 'user', id: '00000000-0000-4000-8000-000000000009' }, ACCOUNT, 'scenarios', 'read', APP_A)).toEqual({
      allowed: false,
      reason: 'not-member',
    });
  });

  it('an application of another account is never granted', () => {
    expect(store.decide(principal, ACCOUNT, 'scenarios', 'read', '00000000-0000-4000-8000-0000000000c3').allowed).toBe(false);
  });

  it('lists the applications where an action is allowed', () => {
    expect(store.allowedApplications(principal, ACCOUNT, 'scenarios', 'read')).toEqual({ all: false, applicationIds: [APP_A] });
    expect(store.allowedApplications(OWNER, ACCOUNT, 'scenarios', 'read')).toEqual({ all: true, applicationIds: [APP_A, APP_B] });
  });

  it.each([
    ['member', 'account', 'read', true],
    ['owner only', 'account', 'write', false],
    ['mapped, not held', 'members', 'write', false],
  ])("Portico's own permission (%s)", (_label, section, action, allowed) => {
    expect(store.decide(principal, ACCOUNT, `portico.${section}`, action).allowed).toBe(allowed);
  });

  it('refuses an unknown Portico permission', () => {
    expect(() => store.decide(principal, ACCOUNT, 'portico.spaceships', 'read')).toThrow('Unknown permission spaceships:read');
  });

  it('unites several roles', () => {
    const united = new DecisionStore(loadCatalog('voximplant'));
    united.replaceAccount({
      accountId: ACCOUNT,
      version: 1,
      ownerId: null,
      roles: [],
      bindings: [
        { principalType: 'subuser', principalId: principal.id, roleId: `${BUILTIN_ROLE_PREFIX}Payer`, applicationIds: null },
        { principalType: 'subuser', principalId: principal.id, roleId: `${BUILTIN_ROLE_PREFIX}UserManager`, applicationIds: [APP_B] },
      ],
      applications: [{ id: APP_B, name: 'B' }],
      inactive: [],
    });
    expect(united.decide(principal, ACCOUNT, 'billing', 'write').allowed).toBe(true);
    expect(united.decide(principal, ACCOUNT, 'app_users', 'write', APP_B).allowed).toBe(true);
    expect(united.decide(principal, ACCOUNT, 'scenarios', 'read', APP_B).allowed).toBe(false);
  });
});

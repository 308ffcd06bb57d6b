import { changedBy, grantList, roleChanges, type RoleState } from './change-events.js';

const role: RoleState = { name: 'Call auditor', description: null, grants: ['call_history:read'] };

describe('what an edit changed of a role', () => {
  it.each<[string, Partial<RoleState>, ReturnType<typeof roleChanges>]>([
    ['nothing', {}, {}],
    ['the name', { name: 'Auditor' }, { name: { from: 'Call auditor', to: 'Auditor' } }],
    ['only the case of the name (still a rename)', { name: 'call auditor' }, { name: { from: 'Call auditor', to: 'call auditor' } }],
    ['the description', { description: 'Reads calls' }, { description: { from: null, to: 'Reads calls' } }],
    ['the grants', { grants: ['call_history:read', 'numbers:read'] }, { grants: { from: ['call_history:read'], to: ['call_history:read', 'numbers:read'] } }],
    [
      'everything',
      { name: 'A', description: '', grants: [] },
      { name: { from: 'Call auditor', to: 'A' }, description: { from: null, to: '' }, grants: { from: ['call_history:read'], to: [] } },
    ],
  ])('%s', (_name, edit, expected) => {
    expect(roleChanges(role, { ...role, ...edit })).toEqual(expected);
  });
});

describe('grants in events', () => {
  it('are section:action each, sorted, whatever order the role lists them in', () => {
    expect(grantList({ scenarios: ['write', 'read'], call_history: ['read'] })).toEqual(['call_history:read', 'scenarios:read', 'scenarios:write']);
    expect(grantList({})).toEqual([]);
  });
});

describe('who made a change', () => {
  const actor = { type: 'user' as const, id: '3f1f7b0e-2a10-4a51-9b8e-7f0c3d3e8d5c' };
  const accountId = '7f0c3d3e-8d5c-4a51-9b8e-3f1f7b0e2a10';

  it('is the principal of the actor and the client address the gateway sent', () => {
    expect(changedBy({ actor: { ...actor, sessionId: 'x' } as typeof actor, accountId, client: { ip: '203.0.113.7' } })).toEqual({
      accountId,
      actor,
      ip: '203.0.113.7',
    });
  });

  it('has no address when the caller sent none (an internal service)', () => {
    expect(changedBy({ actor, accountId })).toEqual({ accountId, actor, ip: null });
  });
});

import { Events, type EventDataMap, type EventEnvelope } from '#libs/contracts/index.js';
import { auditOfAccessEvent, type AccessEventType } from './access-audit.js';

const ACCOUNT = '7f0c3d3e-8d5c-4a51-9b8e-3f1f7b0e2a10';
const ADMIN = { type: 'user' as const, id: '3f1f7b0e-2a10-4a51-9b8e-7f0c3d3e8d5c' };
const ROLE = '0b6f2c61-5d1a-4c4e-9d4f-6a8e2f1c3b70';
const APP = 'c2d4e6f8-1a3b-4c5d-8e7f-9a0b1c2d3e4f';
const APP_2 = 'd3e5f7a9-2b4c-4d6e-9f8a-0b1c2d3e4f5a';
const SUBUSER = { type: 'subuser' as const, id: '9a0b1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c2d' };
const by = { accountId: ACCOUNT, actor: ADMIN, ip: '203.0.113.7' };

function envelope<T extends AccessEventType>(type: T, data: EventDataMap[T]): EventEnvelope {
  return { id: '5e0d8f4a-9c1b-4f2e-8a3d-7b6c5d4e3f21', type, occurredAt: '2026-11-29T10:00:00.123Z', accountId: ACCOUNT, data } as EventEnvelope;
}

describe('an access event as an audit row', () => {
  it.each([
    [
      'role created',
      envelope(Events.RoleCreated, { ...by, roleId: ROLE, name: 'Call auditor', description: null, grants: ['call_history:read'] }),
      { action: 'role.created', target: { type: 'role', id: ROLE }, details: { name: 'Call auditor', description: null, grants: ['call_history:read'] } },
    ],
    [
      'role renamed and regranted',
      envelope(Events.RoleUpdated, {
        ...by,
        roleId: ROLE,
        name: 'Auditor',
        changes: { name: { from: 'Call auditor', to: 'Auditor' }, grants: { from: ['call_history:read'], to: ['call_history:read', 'numbers:read'] } },
        holders: 3,
      }),
      {
        action: 'role.updated',
        target: { type: 'role', id: ROLE },
        details: {
          name: 'Auditor',
          changed: ['name', 'grants'],
          previousName: 'Call auditor',
          grantsBefore: ['call_history:read'],
          grantsAfter: ['call_history:read', 'numbers:read'],
          holders: 3,
        },
      },
    ],
    [
      'role described',
      envelope(Events.RoleUpdated, { ...by, roleId: ROLE, name: 'Auditor', changes: { description: { from: null, to: 'Reads calls' } }, holders: 0 }),
      {
        action: 'role.updated',
        target: { type: 'role', id: ROLE },
        details: { name: 'Auditor', changed: ['description'], description: 'Reads calls', previousDescription: null, holders: 0 },
      },
    ],
    [
      'role deleted',
      envelope(Events.RoleDeleted, { ...by, roleId: ROLE, name: 'Auditor', grants: ['call_history:read'] }),
      { action: 'role.deleted', target: { type: 'role', id: ROLE }, details: { name: 'Auditor', grants: ['call_history:read'] } },
    ],
    [
      'application created',
      envelope(Events.ApplicationCreated, { ...by, applicationId: APP, name: 'Support line' }),
      { action: 'application.created', target: { type: 'application', id: APP }, details: { name: 'Support line' } },
    ],
    [
      'application renamed',
      envelope(Events.ApplicationRenamed, { ...by, applicationId: APP, name: 'Sales line', previousName: 'Support line' }),
      { action: 'application.renamed', target: { type: 'application', id: APP }, details: { name: 'Sales line', previousName: 'Support line' } },
    ],
    [
      'application deleted',
      envelope(Events.ApplicationDeleted, { ...by, applicationId: APP, name: 'Sales line', bindingsNarrowed: 2, bindingsRemoved: 1 }),
      { action: 'application.deleted', target: { type: 'application', id: APP }, details: { name: 'Sales line', bindingsNarrowed: 2, bindingsRemoved: 1 } },
    ],
    [
      "subuser's roles and applications changed",
      envelope(Events.BindingsReplaced, {
        ...by,
        principal: SUBUSER,
        before: [{ roleId: 'builtin:Developer', role: 'Developer', applicationIds: [APP] }],
        after: [
          { roleId: 'builtin:Developer', role: 'Developer', applicationIds: [APP, APP_2] },
          { roleId: ROLE, role: 'Call auditor', applicationIds: [APP_2] },
        ],
      }),
      {
        action: 'roles.changed',
        target: SUBUSER,
        details: { roles: ['Developer', 'Call auditor'], applicationIds: [APP, APP_2], rolesBefore: ['Developer'], applicationIdsBefore: [APP] },
      },
    ],
    [
      "person's role changed, every application, to none",
      envelope(Events.BindingsReplaced, { ...by, principal: ADMIN, before: [{ roleId: ROLE, role: 'Editor', applicationIds: null }], after: [] }),
      { action: 'roles.changed', target: ADMIN, details: { roles: [], applicationIds: [], rolesBefore: ['Editor'], applicationIdsBefore: null } },
    ],
  ])('%s: the object is the target, who and from where as sent, at the time it happened, under the event id', (_name, event, expected) => {
    expect(auditOfAccessEvent(event)).toEqual({
      kind: 'entry',
      entry: {
        eventId: event.id,
        accountId: ACCOUNT,
        occurredAt: new Date('2026-11-29T10:00:00.123Z'),
        actor: ADMIN,
        ip: '203.0.113.7',
        ...expected,
      },
    });
  });

  it('keeps only the principal of the actor, and no address when the caller sent none', () => {
    const event = envelope(Events.ApplicationCreated, { ...by, actor: { ...ADMIN, sessionId: 'x' } as never, ip: null, applicationId: APP, name: 'A' });
    expect(auditOfAccessEvent(event)).toMatchObject({ kind: 'entry', entry: { actor: ADMIN, ip: null } });
  });

  it.each(['access.role.cloned', 'access.bindings.cleared'])('keeps %s, of a type a newer access publishes, for a newer identity', (type) => {
    const event = { ...envelope(Events.RoleCreated, { ...by, roleId: ROLE, name: 'R', description: null, grants: [] }), type };
    expect(auditOfAccessEvent(event as EventEnvelope)).toEqual({ kind: 'unknown' });
  });

  const roleUpdated = (data: Partial<Record<keyof EventDataMap[typeof Events.RoleUpdated], unknown>>) =>
    envelope(Events.RoleUpdated, { ...by, roleId: ROLE, name: 'Auditor', changes: { name: { from: 'A', to: 'Auditor' } }, holders: 1, ...data } as never);

  it.each([
    [
      'an event of identity',
      'not an access event',
      { ...envelope(Events.RoleCreated, { ...by, roleId: ROLE, name: 'R', description: null, grants: [] }), type: Events.AccountCreated },
    ],
    ['an id that is not a UUID', 'id', { ...envelope(Events.ApplicationCreated, { ...by, applicationId: APP, name: 'A' }), id: 'evt-1' }],
    ['no account', 'data.accountId', envelope(Events.ApplicationCreated, { ...by, accountId: 'acme', applicationId: APP, name: 'A' })],
    ['no actor', 'data.actor', envelope(Events.ApplicationCreated, { ...by, actor: undefined as never, applicationId: APP, name: 'A' })],
    [
      'an actor of no known type',
      'data.actor',
      envelope(Events.ApplicationCreated, { ...by, actor: { type: 'robot', id: ADMIN.id } as never, applicationId: APP, name: 'A' }),
    ],
    [
      'an actor without a valid id',
      'data.actor',
      envelope(Events.ApplicationCreated, { ...by, actor: { type: 'user', id: 42 } as never, applicationId: APP, name: 'A' }),
    ],
    ['an address that is not text', 'data.ip', envelope(Events.ApplicationCreated, { ...by, ip: 203 as never, applicationId: APP, name: 'A' })],
    ['an object without a valid id', 'data.roleId', envelope(Events.RoleDeleted, { ...by, roleId: 'builtin:Developer', name: 'Developer', grants: [] })],
    ['no time', 'occurredAt', { ...envelope(Events.ApplicationCreated, { ...by, applicationId: APP, name: 'A' }), occurredAt: 'yesterday' }],
    ['a time as a number', 'occurredAt', { ...envelope(Events.ApplicationCreated, { ...by, applicationId: APP, name: 'A' }), occurredAt: 1_700_000_000_000 }],
    [
      'a time PostgreSQL cannot store',
      'occurredAt',
      { ...envelope(Events.ApplicationCreated, { ...by, applicationId: APP, name: 'A' }), occurredAt: '+100000-01-01T00:00:00Z' },
    ],
    ['no data', 'data', { ...envelope(Events.ApplicationCreated, { ...by, applicationId: APP, name: 'A' }), data: null as never }],
    ['a role update without its changes', 'data.changes', roleUpdated({ changes: undefined })],
    ['a role update whose changes are not an object', 'data.changes', roleUpdated({ changes: ['name'] })],
    ['a role update with a change of name lacking its before', 'data.changes', roleUpdated({ changes: { name: { to: 'Auditor' } } })],
    ['a role update with grants that are not a list of text', 'data.changes', roleUpdated({ changes: { grants: { from: [], to: 'numbers:read' } } })],
    ['a role update without the number of holders', 'data.holders', roleUpdated({ holders: undefined })],
    ['a role update with a negative number of holders', 'data.holders', roleUpdated({ holders: -1 })],
    ['a role without a name', 'data.name', envelope(Events.RoleCreated, { ...by, roleId: ROLE, name: undefined as never, description: null, grants: [] })],
    ['a name PostgreSQL cannot store', 'data.name', envelope(Events.ApplicationCreated, { ...by, applicationId: APP, name: 'A\u0000B' })],
    [
      'a description that is neither text nor null',
      'data.description',
      envelope(Events.RoleCreated, { ...by, roleId: ROLE, name: 'R', description: 7 as never, grants: [] }),
    ],
    ['grants that are not a list', 'data.grants', envelope(Events.RoleDeleted, { ...by, roleId: ROLE, name: 'R', grants: 'numbers:read' as never })],
    [
      'a rename without the previous name',
      'data.previousName',
      envelope(Events.ApplicationRenamed, { ...by, applicationId: APP, name: 'B', previousName: undefined as never }),
    ],
    [
      'counts of bindings that are not whole numbers',
      'data.bindingsNarrowed',
      envelope(Events.ApplicationDeleted, { ...by, applicationId: APP, name: 'B', bindingsNarrowed: '2' as never, bindingsRemoved: 0 }),
    ],
    [
      'roles changed of no principal',
      'data.principal',
      envelope(Events.BindingsReplaced, { ...by, principal: { type: 'robot', id: ADMIN.id } as never, before: [], after: [] }),
    ],
    [
      'roles changed without what was held before',
      'data.before',
      envelope(Events.BindingsReplaced, { ...by, principal: SUBUSER, before: undefined as never, after: [] }),
    ],
    [
      'roles changed to a role without a name',
      'data.after',
      envelope(Events.BindingsReplaced, { ...by, principal: SUBUSER, before: [], after: [{ roleId: ROLE, applicationIds: null } as never] }),
    ],
    [
      'roles changed with applications that are not a list',
      'data.after',
      envelope(Events.BindingsReplaced, { ...by, principal: SUBUSER, before: [], after: [{ roleId: ROLE, role: 'R', applicationIds: APP as never }] }),
    ],
  ])('refuses %s: it could never be recorded', (_name, reason, event) => {
    expect(auditOfAccessEvent(event as EventEnvelope)).toEqual({ kind: 'refused', reason });
  });
});

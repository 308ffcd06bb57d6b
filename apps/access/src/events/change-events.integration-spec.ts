import { jest } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { Events, type EventEnvelope, type Principal } from '#libs/contracts/index.js';
import { DomainError, ErrorCode } from '#libs/errors/index.js';
import { ApplicationsService } from '../applications/applications.service.js';
import { BUILTIN_ROLE_PREFIX, DecisionStore } from '../checks/decision-store.js';
import { PrincipalActivityEntity } from '../principals/principal-activity.entity.js';
import { RolesService } from '../roles/roles.service.js';
import { AccessStateService } from '../state/access-state.service.js';
import { freshAccessServices } from '../state/services-harness-spec.js';

const access = freshAccessServices();
const { database } = access;
const ACCOUNT = randomUUID();
const owner: Principal = { type: 'user', id: randomUUID() };
const client = { ip: '203.0.113.9' };
let store: DecisionStore;
let state: AccessStateService;
let roles: RolesService;
let applications: ApplicationsService;

/** The events in access's outbox (the relay does not run here), oldest first. */
async function outbox(): Promise<EventEnvelope[]> {
  const rows = await database.query<{ payload: EventEnvelope }>(`SELECT payload FROM access.outbox ORDER BY created_at, id`);
  return rows.map((row) => row.payload);
}

/** Gives `principal` a role in the account, in all applications or some. */
function bind(principal: Principal, roleId: string, applicationIds: string[] | null = null): Promise<void> {
  return access.bind(ACCOUNT, principal, roleId, applicationIds);
}

/** Expects `change` to be refused with `code`. */
async function refused(change: Promise<unknown>, code: ErrorCode): Promise<void> {
  await expect(change).rejects.toBeInstanceOf(DomainError);
  await expect(change).rejects.toMatchObject({ code });
}

beforeAll(async () => {
  ({ store, state, roles, applications } = access);
  await access.account(ACCOUNT, owner);
});
beforeEach(async () => {
  await database.query(`DELETE FROM access.outbox`);
});

describe("access's change events", () => {
  it('are written with each change of a custom role: who, from where, the role, and what changed', async () => {
    const created = await roles.create({
      actor: owner,
      accountId: ACCOUNT,
      client,
      body: { name: 'Call auditor', grants: [{ section: 'call_history', actions: ['read'] }] },
    });
    const by = { accountId: ACCOUNT, actor: owner, ip: client.ip };
    const grants = [
      { section: 'call_history', actions: ['read'] },
      { section: 'scenarios', actions: ['read'] },
    ];
    await roles.update({ actor: owner, accountId: ACCOUNT, client, roleId: created.id, body: { name: 'Auditor', grants } });
    // An edit that changes nothing tells of nothing.
    await roles.update({ actor: owner, accountId: ACCOUNT, client, roleId: created.id, body: { name: 'Auditor' } });
    await roles.delete({ actor: owner, accountId: ACCOUNT, roleId: created.id });
    const events = await outbox();
    expect(events.map((event) => [event.type, event.accountId])).toEqual([
      [Events.RoleCreated, ACCOUNT],
      [Events.RoleUpdated, ACCOUNT],
      [Events.RoleDeleted, ACCOUNT],
    ]);
    expect(events[0].data).toEqual({ ...by, roleId: created.id, name: 'Call auditor', description: null, grants: ['call_history:read'] });
    expect(events[1].data).toEqual({
      ...by,
      roleId: created.id,
      name: 'Auditor',
      changes: { name: { from: 'Call auditor', to: 'Auditor' }, grants: { from: ['call_history:read'], to: ['call_history:read', 'scenarios:read'] } },
      holders: 0,
    });
    // A call without a client address (an internal service) says so.
    expect(events[2].data).toEqual({ ...by, ip: null, roleId: created.id, name: 'Auditor', grants: ['call_history:read', 'scenarios:read'] });
  });

  it("tell the time of their change by the database's clock, not the pod's (two pods whose clocks differ tell two changes in order)", async () => {
    const fakeable = [
      'Date',
      'hrtime',
      'nextTick',
      'performance',
      'queueMicrotask',
      'requestAnimationFrame',
      'cancelAnimationFrame',
      'requestIdleCallback',
      'cancelIdleCallback',
      'setImmediate',
      'clearImmediate',
      'setInterval',
      'clearInterval',
      'setTimeout',
      'clearTimeout',
    ] as const;
    // This pod's clock says 2001; only Date is made to lie.
    jest.useFakeTimers({ now: Date.parse('2001-01-01T00:00:00Z'), doNotFake: fakeable.filter((api) => api !== 'Date') });
    try {
      await applications.create({ actor: owner, accountId: ACCOUNT, client, body: { name: 'Clock line' } });
    } finally {
      jest.useRealTimers();
    }
    const [event] = await outbox();
    const [{ now }] = await database.query<{ now: Date }>('SELECT now()');
    expect(Math.abs(Date.parse(event.occurredAt) - now.getTime())).toBeLessThan(60_000);
    expect(event.occurredAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it('tell of a description cleared (null) as a change, and of a description left out as none', async () => {
    const created = await roles.create({ actor: owner, accountId: ACCOUNT, client, body: { name: 'Listener', description: 'Reads calls', grants: [] } });
    await roles.update({ actor: owner, accountId: ACCOUNT, client, roleId: created.id, body: { name: 'Listener' } });
    const cleared = await roles.update({ actor: owner, accountId: ACCOUNT, client, roleId: created.id, body: { description: null } });
    expect(cleared.description).toBeNull();
    const events = await outbox();
    expect(events.map((event) => event.type)).toEqual([Events.RoleCreated, Events.RoleUpdated]);
    expect(events[1].data).toMatchObject({ roleId: created.id, name: 'Listener', changes: { description: { from: 'Reads calls', to: null } } });
  });

  it('are written with each change of an application, with what its deletion did to the bindings limited to it', async () => {
    const app = await applications.create({ actor: owner, accountId: ACCOUNT, client, body: { name: 'Support line' } });
    const other = await applications.create({ actor: owner, accountId: ACCOUNT, client, body: { name: 'Other line' } });
    await applications.rename({ actor: owner, accountId: ACCOUNT, client, applicationId: app.id, body: { name: 'Sales line' } });
    await bind({ type: 'subuser', id: randomUUID() }, `${BUILTIN_ROLE_PREFIX}Developer`, [app.id, other.id]);
    const losing: Principal = { type: 'subuser', id: randomUUID() };
    await bind(losing, `${BUILTIN_ROLE_PREFIX}Support`, [app.id]);
    await database.query(`DELETE FROM access.outbox WHERE payload->>'type' = $1`, [Events.BindingsReplaced]);
    await applications.delete({ actor: owner, accountId: ACCOUNT, client, applicationId: app.id });
    const by = { accountId: ACCOUNT, actor: owner, ip: client.ip };
    // The subuser whose only application went loses its role: told as any change of its roles (the narrowed one keeps its role).
    const lost = { principal: losing, before: [{ roleId: `${BUILTIN_ROLE_PREFIX}Support`, role: 'Support', applicationIds: [app.id] }], after: [] };
    const events = (await outbox()).map((event) => [event.type, event.data]);
    expect(events.slice(0, 3)).toEqual([
      [Events.ApplicationCreated, { ...by, applicationId: app.id, name: 'Support line' }],
      [Events.ApplicationCreated, { ...by, applicationId: other.id, name: 'Other line' }],
      [Events.ApplicationRenamed, { ...by, applicationId: app.id, name: 'Sales line', previousName: 'Support line' }],
    ]);
    // Written by one transaction (in no order of their own).
    expect(events.slice(3)).toHaveLength(2);
    expect(events.slice(3)).toEqual(
      expect.arrayContaining([
        [Events.ApplicationDeleted, { ...by, applicationId: app.id, name: 'Sales line', bindingsNarrowed: 1, bindingsRemoved: 1 }],
        [Events.BindingsReplaced, { ...by, ...lost, version: store.versionOf(ACCOUNT) }],
      ]),
    );
  });

  it("are written with each replacement that changes a principal's bindings: what it held and holds, each role by id and by its name then", async () => {
    const { accountId, owner: by, admin, subuser, first, second } = await access.accountWithSubuser();
    const { bindings } = access;
    await database.query(`DELETE FROM access.outbox`);
    const developer = `${BUILTIN_ROLE_PREFIX}Developer`;
    const support = `${BUILTIN_ROLE_PREFIX}Support`;
    await bindings.replace({ actor: admin, client, accountId, principal: subuser, bindings: [{ role: 'Developer', applicationIds: [second, first] }] });
    // Nothing changes: none for a dry run, the same bindings again (applications in another order), or a refusal.
    await bindings.replace({ actor: admin, accountId, principal: subuser, bindings: [{ role: 'Admin' }], dryRun: true });
    await bindings.replace({ actor: admin, client, accountId, principal: subuser, bindings: [{ role: developer, applicationIds: [first, second] }] });
    await refused(bindings.replace({ actor: subuser, client, accountId, principal: admin, bindings: [] }), ErrorCode.Forbidden);
    await bindings.replace({ actor: by, accountId, principal: admin, bindings: [] });
    // A removal's unbinding tells what it took, by whoever removes; without one (the principal leaving, a second unbinding), by the principal.
    await bindings.removePrincipal({ actor: by, accountId, principal: subuser });
    await bindings.removePrincipal({ accountId, principal: subuser });
    await bindings.replace({ actor: by, accountId, principal: admin, bindings: [{ role: 'Support' }] });
    await bindings.removePrincipal({ accountId, principal: admin });
    // A second unbinding that names its caller (not judged) is told as theirs.
    await bindings.replace({ actor: by, accountId, principal: admin, bindings: [{ role: 'Support' }] });
    await bindings.removePrincipal({ accountId, principal: admin, by });

    const events = await outbox();
    expect(events.map((event) => [event.type, event.accountId])).toEqual([
      [Events.BindingsReplaced, accountId],
      [Events.BindingsReplaced, accountId],
      [Events.BindingsReplaced, accountId],
      [Events.BindingsReplaced, accountId],
      [Events.BindingsReplaced, accountId],
      [Events.BindingsReplaced, accountId],
      [Events.BindingsReplaced, accountId],
    ]);
    const heldSupport = { roleId: support, role: 'Support', applicationIds: null };
    // As the second replacement wrote them (the same bindings, told of as none).
    const developerInBoth = [{ roleId: developer, role: 'Developer', applicationIds: [first, second] }];
    const version = expect.any(Number) as unknown as number;
    expect(events[2].data).toEqual({ accountId, actor: by, ip: null, principal: subuser, before: developerInBoth, after: [], version });
    expect(events[4].data).toEqual({ accountId, actor: admin, ip: null, principal: admin, before: [heldSupport], after: [], version });
    expect(events[6].data).toEqual({ accountId, actor: by, ip: null, principal: admin, before: [heldSupport], after: [], version });
    // Each carries the account's version of its change: later changes, higher versions; the last, the version access holds now.
    const versions = events.map((event) => (event.data as { version: number }).version);
    expect(versions).toEqual([...versions].sort((a, b) => a - b));
    expect(new Set(versions).size).toBe(versions.length);
    expect(versions[6]).toBe(store.versionOf(accountId));
    expect(events[0].data).toEqual({
      accountId,
      actor: admin,
      ip: client.ip,
      principal: subuser,
      before: [
        { roleId: developer, role: 'Developer', applicationIds: [first] },
        { roleId: support, role: 'Support', applicationIds: [first] },
      ],
      after: [{ roleId: developer, role: 'Developer', applicationIds: [second, first] }],
      version,
    });
    expect(events[1].data).toEqual({
      accountId,
      actor: by,
      ip: null,
      principal: admin,
      before: [{ roleId: `${BUILTIN_ROLE_PREFIX}Admin`, role: 'Admin', applicationIds: null }],
      after: [],
      version,
    });
  });

  it('are not written for a change refused: escalation (403), a role in use or a name taken (409), an unknown object (404)', async () => {
    const held = await roles.create({ actor: owner, accountId: ACCOUNT, body: { name: 'Held', grants: [{ section: 'billing', actions: ['read'] }] } });
    const developer: Principal = { type: 'user', id: randomUUID() };
    await bind(developer, `${BUILTIN_ROLE_PREFIX}Developer`);
    await bind({ type: 'subuser', id: randomUUID() }, held.id);
    await database.query(`DELETE FROM access.outbox`);
    const grantsBilling = [{ section: 'billing', actions: ['read'] }];
    await refused(roles.create({ actor: developer, accountId: ACCOUNT, client, body: { name: 'Payer too', grants: grantsBilling } }), ErrorCode.Forbidden);
    await refused(roles.update({ actor: developer, accountId: ACCOUNT, client, roleId: held.id, body: { name: 'Renamed' } }), ErrorCode.Forbidden);
    await refused(roles.delete({ actor: owner, accountId: ACCOUNT, client, roleId: held.id }), ErrorCode.Conflict);
    await refused(roles.create({ actor: owner, accountId: ACCOUNT, client, body: { name: 'held', grants: grantsBilling } }), ErrorCode.Conflict);
    await refused(applications.rename({ actor: owner, accountId: ACCOUNT, client, applicationId: randomUUID(), body: { name: 'X' } }), ErrorCode.NotFound);
    expect(await outbox()).toEqual([]);
  });

  it('are not written for an application created by an actor who is nobody in the account: inactive, or not a member (403)', async () => {
    const dormant: Principal = { type: 'user', id: randomUUID() };
    await bind(dormant, `${BUILTIN_ROLE_PREFIX}Developer`);
    await state.mutate(ACCOUNT, (manager) =>
      manager.insert(PrincipalActivityEntity, { accountId: ACCOUNT, principalType: 'user', principalId: dormant.id, active: false, changedAt: new Date() }),
    );
    await database.query(`DELETE FROM access.outbox`);
    await refused(applications.create({ actor: dormant, accountId: ACCOUNT, client, body: { name: 'Dormant line' } }), ErrorCode.Forbidden);
    await refused(
      applications.create({ actor: { type: 'user', id: randomUUID() }, accountId: ACCOUNT, client, body: { name: 'Stranger line' } }),
      ErrorCode.Forbidden,
    );
    expect(await outbox()).toEqual([]);
    expect(await database.query(`SELECT name FROM access.applications WHERE name IN ('Dormant line', 'Stranger line')`)).toEqual([]);
  });

  it('go with their change or not at all: nothing is written of a change that rolls back after writing its event', async () => {
    // The last statement of every change (raising the account's version, after the event is written) fails.
    await database.query(`CREATE FUNCTION access.refuse_version() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'version refused'; END $$`);
    await database.query(`CREATE TRIGGER refuse_version BEFORE INSERT OR UPDATE ON access.account_versions EXECUTE FUNCTION access.refuse_version()`);
    try {
      const grants = [{ section: 'scenarios', actions: ['read'] }];
      await expect(roles.create({ actor: owner, accountId: ACCOUNT, client, body: { name: 'Ghost', grants } })).rejects.toThrow('version refused');
      await expect(applications.create({ actor: owner, accountId: ACCOUNT, client, body: { name: 'Ghost line' } })).rejects.toThrow('version refused');
    } finally {
      await database.query(`DROP TRIGGER refuse_version ON access.account_versions; DROP FUNCTION access.refuse_version()`);
    }
    expect(await outbox()).toEqual([]);
    const made = await database.query(
      `SELECT name FROM access.roles WHERE name = 'Ghost' UNION ALL SELECT name FROM access.applications WHERE name = 'Ghost line'`,
    );
    expect(made).toEqual([]);
    expect(store.roles(ACCOUNT).map((role) => role.name)).not.toContain('Ghost');
  });
});

describe("an account's quotas", () => {
  /** The services of one account with room for two custom roles and two applications. */
  const limited = () => access.limitedTo(2, 2);
  const account = () => access.account();

  it.each(['roles', 'applications'] as const)(
    'lets exactly the limit of %s in when many are asked at once, refuses the rest with 409 naming the limit',
    async (kind) => {
      const { accountId, actor } = await account();
      const services = limited();
      const create = (n: number) =>
        kind === 'roles'
          ? services.roles.create({ actor, accountId, client, body: { name: `Role ${n}`, grants: [{ section: 'call_history', actions: ['read'] }] } })
          : services.applications.create({ actor, accountId, client, body: { name: `App ${n}` } });

      const outcomes = await Promise.allSettled([1, 2, 3, 4, 5].map(create));

      expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(2);
      const reasons = outcomes.flatMap((outcome) => (outcome.status === 'rejected' ? [outcome.reason as DomainError] : []));
      expect(reasons.map((reason) => [reason.code, reason.details])).toEqual(Array.from({ length: 3 }, () => [ErrorCode.Conflict, { limit: 2 }]));
      expect(reasons[0].message).toBe(`This account has 2 ${kind === 'roles' ? 'custom roles' : 'applications'}, the most it may have; delete one first`);
    },
  );

  it("counts each account's own, and makes room again when one is deleted", async () => {
    const [first, second] = [await account(), await account()];
    const { roles: limitedRoles } = limited();
    const create = ({ accountId, actor }: { accountId: string; actor: Principal }, name: string) =>
      limitedRoles.create({ actor, accountId, client, body: { name, grants: [{ section: 'call_history', actions: ['read'] }] } });
    const kept = await create(first, 'One');
    await create(first, 'Two');
    await refused(create(first, 'Three'), ErrorCode.Conflict);
    await create(second, 'One');
    await create(second, 'Two');

    await limitedRoles.delete({ actor: first.actor, accountId: first.accountId, roleId: kept.id });
    await create(first, 'Three');
    await refused(create(first, 'Four'), ErrorCode.Conflict);
  });
});

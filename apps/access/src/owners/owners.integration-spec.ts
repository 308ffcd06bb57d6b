import { randomUUID } from 'node:crypto';
import { Events, type EventEnvelope, type OwnershipTransferredData, type Principal } from '#libs/contracts/index.js';
import { PermanentEventError, RetryEventLaterError } from '#libs/platform/index.js';
import { BUILTIN_ROLE_PREFIX } from '../checks/decision-store.js';
import { OwnersHoldNoBindings1734100000000 } from '../migrations/1734100000000-owners-hold-no-bindings.js';
import { PrincipalsService } from '../principals/principals.service.js';
import { AccountOwnerEntity } from './account-owner.entity.js';
import { freshAccessServices } from '../state/services-harness-spec.js';

const access = freshAccessServices();
const client = { ip: '203.0.113.11' };

const user = (): Principal => ({ type: 'user', id: randomUUID() });

/** Identity's event of a hand-over of the account from one user to another. */
function handOver(accountId: string, from: Principal, to: Principal, previousOwnerRole: string, ownerVersion: number) {
  const data: OwnershipTransferredData = { accountId, fromUserId: from.id, toUserId: to.id, previousOwnerRole, ownerVersion };
  const event: EventEnvelope<typeof Events.OwnershipTransferred> = {
    id: randomUUID(),
    type: Events.OwnershipTransferred,
    occurredAt: new Date().toISOString(),
    accountId,
    data,
  };
  return access.owners.applyTransfer(event);
}

/** Identity's event that `principal` became inactive in the account (as a removal or a deactivation writes it), applied by access. */
function deactivate(accountId: string, principal: Principal): Promise<void> {
  const changes = [{ principalType: principal.type, principalId: principal.id, active: false, changedAt: new Date().toISOString() }];
  const principals = new PrincipalsService(access.state, access.dataSource, access.link, access.logger);
  return principals.applyActivity({
    id: randomUUID(),
    type: Events.PrincipalActivityChanged,
    occurredAt: changes[0].changedAt,
    accountId,
    data: { accountId, changes },
  });
}

/** The bindings of a principal in PostgreSQL, by role id, then applications. */
async function bindingsInDatabase(accountId: string, principal: Principal): Promise<Array<{ role_id: string; application_ids: string[] | null }>> {
  return access.database.query(
    'SELECT role_id, application_ids FROM access.bindings WHERE account_id = $1 AND principal_id = $2 ORDER BY role_id, application_ids',
    [accountId, principal.id],
  );
}

describe('a hand-over of an account, as access applies it', () => {
  it('drops the bindings of the new owner (who holds everything): a custom role they held can be deleted, and is held by nobody', async () => {
    const { accountId, actor: first } = await access.account();
    const next = user();
    const role = await access.roles.create({
      actor: first,
      accountId,
      client,
      body: { name: 'Night shift', grants: [{ section: 'logs', actions: ['read'] }] },
    });
    await access.bind(accountId, next, role.id);
    await access.bind(accountId, next, `${BUILTIN_ROLE_PREFIX}Support`);

    await handOver(accountId, first, next, `${BUILTIN_ROLE_PREFIX}Admin`, 1);

    expect(access.store.isOwner(next, accountId)).toBe(true);
    expect(await bindingsInDatabase(accountId, next)).toEqual([]);
    expect(access.store.bindingsOf(next, accountId)).toEqual([]);
    expect(access.bindings.ofPrincipals({ accountId, principals: [next] })).toEqual({
      [next.id]: [{ roleId: 'owner', role: access.store.catalog.ownerRole, applicationIds: null }],
    });
    expect((await access.roles.list({ actor: next, accountId })).find((listed) => listed.id === role.id)?.holders).toBe(0);
    await expect(access.roles.delete({ actor: next, accountId, client, roleId: role.id })).resolves.toEqual({ deleted: true });
    expect(await bindingsInDatabase(accountId, first)).toEqual([{ role_id: `${BUILTIN_ROLE_PREFIX}Admin`, application_ids: null }]);
  });

  it("tells the audit trail of the roles it changes, by the previous owner: the new owner's dropped, the role the previous one keeps", async () => {
    const { accountId, actor: first } = await access.account();
    const next = user();
    await access.bind(accountId, next, `${BUILTIN_ROLE_PREFIX}Support`);
    await access.database.query('DELETE FROM access.outbox WHERE account_id = $1', [accountId]);

    await handOver(accountId, first, next, `${BUILTIN_ROLE_PREFIX}Developer`, 1);

    const told = await access.database.query<{ payload: EventEnvelope<typeof Events.BindingsReplaced> }>(
      'SELECT payload FROM access.outbox WHERE account_id = $1 ORDER BY created_at, id',
      [accountId],
    );
    const by = { accountId, actor: first, ip: null };
    const held = (name: string) => [{ roleId: `${BUILTIN_ROLE_PREFIX}${name}`, role: name, applicationIds: null }];
    expect(told.map((row) => [row.payload.type, row.payload.data])).toEqual(
      expect.arrayContaining([
        [Events.BindingsReplaced, { ...by, principal: next, before: held('Support'), after: [], version: access.store.versionOf(accountId) }],
        [Events.BindingsReplaced, { ...by, principal: first, before: [], after: held('Developer'), version: access.store.versionOf(accountId) }],
      ]),
    );
    expect(told).toHaveLength(2);
  });

  it('gives its previous owner, holding nothing since, the role it names when it is older than a hand-over applied already', async () => {
    const { accountId, actor: first } = await access.account();
    const second = user();
    const third = user();
    // Hand-overs first -> second (1) and second -> third (2); the event of the second is applied first.
    await handOver(accountId, second, third, `${BUILTIN_ROLE_PREFIX}Support`, 2);
    expect(await bindingsInDatabase(accountId, first)).toEqual([]);

    await handOver(accountId, first, second, `${BUILTIN_ROLE_PREFIX}Admin`, 1);

    expect(access.store.isOwner(third, accountId)).toBe(true);
    expect(await bindingsInDatabase(accountId, first)).toEqual([{ role_id: `${BUILTIN_ROLE_PREFIX}Admin`, application_ids: null }]);
    expect(await bindingsInDatabase(accountId, second)).toEqual([{ role_id: `${BUILTIN_ROLE_PREFIX}Support`, application_ids: null }]);
    expect(access.store.decide(first, accountId, 'logs', 'read').allowed).toBe(true);
  });

  it('gives its previous owner the broadest built-in role when it is late and the role it names was deleted since', async () => {
    const { accountId, actor: first } = await access.account();
    const second = user();
    await handOver(accountId, second, user(), `${BUILTIN_ROLE_PREFIX}Support`, 2);

    await handOver(accountId, first, second, randomUUID(), 1);

    expect(await bindingsInDatabase(accountId, first)).toEqual([{ role_id: `${BUILTIN_ROLE_PREFIX}MainAccount`, application_ids: null }]);
  });

  it('binds nobody when it is late and its previous owner was removed from the account since (access holds them inactive)', async () => {
    const { accountId, actor: first } = await access.account();
    const second = user();
    const third = user();
    await handOver(accountId, second, third, `${BUILTIN_ROLE_PREFIX}Support`, 2);
    await access.bind(accountId, first, `${BUILTIN_ROLE_PREFIX}Support`);
    // The removal: the gateway drops their bindings, identity's event makes them inactive.
    await access.bindings.removePrincipal({ accountId, principal: first });
    await deactivate(accountId, first);

    await handOver(accountId, first, second, `${BUILTIN_ROLE_PREFIX}Admin`, 1);

    expect(access.store.isOwner(third, accountId)).toBe(true);
    expect(await bindingsInDatabase(accountId, first)).toEqual([]);
    expect(access.store.bindingsOf(first, accountId)).toEqual([]);
  });

  it('never binds the current owner when it is late and names them as its previous owner', async () => {
    const { accountId, actor: first } = await access.account();
    const second = user();
    // Hand-overs first -> second (1) and second -> first (2): first is the owner again.
    await handOver(accountId, second, first, `${BUILTIN_ROLE_PREFIX}Support`, 2);

    await handOver(accountId, first, second, `${BUILTIN_ROLE_PREFIX}Admin`, 1);

    expect(access.store.isOwner(first, accountId)).toBe(true);
    expect(await bindingsInDatabase(accountId, first)).toEqual([]);
    expect(await bindingsInDatabase(accountId, second)).toEqual([{ role_id: `${BUILTIN_ROLE_PREFIX}Support`, application_ids: null }]);
  });

  it('leaves the bindings of its previous owner as they are when it is late and they hold some (given after it)', async () => {
    const { accountId, actor: first } = await access.account();
    const second = user();
    const third = user();
    const application = await access.applications.create({ actor: first, accountId, client, body: { name: 'Call centre' } });
    // Hand-overs first -> second (1) and second -> third (2); the event of the second is applied first.
    await handOver(accountId, second, third, `${BUILTIN_ROLE_PREFIX}Support`, 2);
    // The new owner narrows what the first owner, no longer the owner, holds.
    await access.bind(accountId, first, `${BUILTIN_ROLE_PREFIX}Support`, [application.id]);

    await handOver(accountId, first, second, `${BUILTIN_ROLE_PREFIX}Admin`, 1);

    expect(access.store.isOwner(third, accountId)).toBe(true);
    expect(await bindingsInDatabase(accountId, first)).toEqual([{ role_id: `${BUILTIN_ROLE_PREFIX}Support`, application_ids: [application.id] }]);
    expect(await bindingsInDatabase(accountId, second)).toEqual([{ role_id: `${BUILTIN_ROLE_PREFIX}Support`, application_ids: null }]);
    expect(access.store.decide(first, accountId, 'logs', 'read').allowed).toBe(false);
  });

  it("is applied to the owners of before this release by a migration: their bindings go, and their accounts' versions move", async () => {
    const { accountId, actor: first } = await access.account();
    const next = user();
    await access.bind(accountId, next, `${BUILTIN_ROLE_PREFIX}Admin`);
    await access.bind(accountId, first, `${BUILTIN_ROLE_PREFIX}Support`);
    // What a hand-over applied by the previous release left: the new owner still bound.
    await access.state.mutate(accountId, (manager) => manager.update(AccountOwnerEntity, { accountId }, { userId: next.id }));
    const before = access.store.versionOf(accountId);

    const runner = access.dataSource.createQueryRunner();
    await new OwnersHoldNoBindings1734100000000().up(runner).finally(() => runner.release());

    expect(await bindingsInDatabase(accountId, next)).toEqual([]);
    expect(await bindingsInDatabase(accountId, first)).toEqual([{ role_id: `${BUILTIN_ROLE_PREFIX}Support`, application_ids: null }]);
    const [{ version }] = await access.database.query<{ version: string }>('SELECT version FROM access.account_versions WHERE account_id = $1', [accountId]);
    expect(Number(version)).toBe(before + 1);
  });
});

describe('an account closed before anyone acted in it, as access applies it', () => {
  it('drops everything it held of the account (owner, roles, applications, bindings, activity): nobody is a member there any more', async () => {
    const { accountId, actor: owner } = await access.account();
    const member = user();
    const role = await access.roles.create({ actor: owner, accountId, client, body: { name: 'Closing', grants: [{ section: 'logs', actions: ['read'] }] } });
    await access.applications.create({ actor: owner, accountId, client, body: { name: 'Closing app' } });
    await access.bind(accountId, member, role.id);
    await deactivate(accountId, user());
    const closure: EventEnvelope<typeof Events.AccountClosed> = {
      id: randomUUID(),
      type: Events.AccountClosed,
      occurredAt: new Date().toISOString(),
      accountId,
      data: { accountId, slug: 'closing', reason: 'owner-declined' },
    };

    await access.owners.applyClosure(closure);
    await access.owners.applyClosure(closure);

    for (const table of ['account_owners', 'roles', 'applications', 'bindings', 'principal_activity']) {
      const [{ count }] = await access.database.query<{ count: number }>(`SELECT count(*)::int AS count FROM access.${table} WHERE account_id = $1`, [
        accountId,
      ]);
      expect({ table, count }).toEqual({ table, count: 0 });
    }
    expect(access.store.isOwner(owner, accountId)).toBe(false);
    expect(access.store.decide(owner, accountId, 'logs', 'read')).toMatchObject({ allowed: false, reason: 'not-member' });
    expect(access.store.decide(member, accountId, 'logs', 'read')).toMatchObject({ allowed: false, reason: 'not-member' });
    expect(access.store.roles(accountId).filter((each) => each.id === role.id)).toEqual([]);
  });

  it('puts nothing back for an event about it applied later: its creation redelivered, an activity change', async () => {
    const { accountId, actor: owner } = await access.account();
    await access.owners.applyClosure(envelope(Events.AccountClosed, accountId, { accountId, slug: 'late', reason: 'owner-declined' }));

    await access.owners.apply(envelope(Events.AccountCreated, accountId, { accountId, slug: 'late', ownerUserId: owner.id }));
    await deactivate(accountId, owner);

    expect(await access.database.query('SELECT user_id FROM access.account_owners WHERE account_id = $1', [accountId])).toEqual([]);
    expect(await access.database.query('SELECT principal_id FROM access.principal_activity WHERE account_id = $1', [accountId])).toEqual([]);
    expect(access.store.decide(owner, accountId, 'logs', 'read')).toMatchObject({ allowed: false, reason: 'not-member' });
  });
});

describe('an account event of a type this release does not know', () => {
  it('is kept for a newer access (delivered again later), never acknowledged unapplied', async () => {
    const accountId = randomUUID();
    const event = { id: randomUUID(), type: 'identity.account.renamed', occurredAt: new Date().toISOString(), accountId, data: { accountId } };

    await expect(access.owners.handle(event as unknown as EventEnvelope)).rejects.toBeInstanceOf(RetryEventLaterError);
  });
});

describe('an account event naming its ids in capitals, or not as ids', () => {
  it('is applied to the account and owner as every subject names them (lower-case)', async () => {
    const accountId = randomUUID();
    const owner = user();
    const created = envelope(Events.AccountCreated, accountId, { accountId: accountId.toUpperCase(), slug: 'caps', ownerUserId: owner.id.toUpperCase() });
    await access.owners.handle(created as EventEnvelope);
    expect(access.store.decide(owner, accountId, 'logs', 'read')).toMatchObject({ allowed: true, reason: 'owner' });
  });

  it.each([
    ['an account id', { accountId: 'acme', slug: 'x', ownerUserId: randomUUID() }, 'accountId'],
    ['an owner id', { accountId: randomUUID(), slug: 'x', ownerUserId: 42 }, 'ownerUserId'],
  ])('is dropped (the consumer terminates it) when %s is not a UUID: it could never be applied', async (_what, data, field) => {
    const event = envelope(Events.AccountCreated, randomUUID(), data as never);
    await expect(access.owners.handle(event as EventEnvelope)).rejects.toThrow(new PermanentEventError(`An event whose ${field} is not a UUID`));
  });

  it('is dropped when a hand-over names someone by no id', async () => {
    const accountId = randomUUID();
    const data: OwnershipTransferredData = { accountId, fromUserId: randomUUID(), toUserId: 'grace', previousOwnerRole: 'builtin:Admin', ownerVersion: 1 };
    const event = { id: randomUUID(), type: Events.OwnershipTransferred, occurredAt: new Date().toISOString(), accountId, data };
    await expect(access.owners.handle(event as EventEnvelope)).rejects.toBeInstanceOf(PermanentEventError);
  });
});

/** An event of identity's about an account, as the owners consumer receives it. */
function envelope<T extends typeof Events.AccountCreated | typeof Events.AccountClosed>(
  type: T,
  accountId: string,
  data: EventEnvelope<T>['data'],
): EventEnvelope<T> {
  return { id: randomUUID(), type, occurredAt: new Date().toISOString(), accountId, data };
}

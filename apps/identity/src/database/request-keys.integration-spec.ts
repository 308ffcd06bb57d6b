import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { CreatedView } from '#libs/contracts/index.js';
import { ManualClock } from '#libs/platform/index.js';
import { ThrottleService } from '../credentials/throttle.service.js';
import { Housekeeping } from './housekeeping.js';
import { freshIdentityServices, SideConnection } from './services-harness-spec.js';

const client = { ip: '10.11.0.1' };
const { db, services } = freshIdentityServices();

/**
 * Adding someone as the gateway does, with a request key: a person (invited) or a subuser (an
 * activation mail to its e-mail), each new per call of `next`, and what is kept of them.
 */
const KINDS = [
  {
    kind: 'a person',
    invitation: 'identity.user.invited',
    next: () => {
      const email = `${randomUUID().slice(0, 8)}@keys.test`;
      return (accountId: string, actorId: string, requestKey: string) =>
        services.users.create({
          actor: services.actor('user', actorId),
          accountId,
          client,
          body: { firstName: 'Grace', lastName: 'Hopper', email, phone: '+447700900124', role: 'Developer' },
          requestKey,
        });
    },
    /** Memberships of the account with this id. */
    rows: (accountId: string, id: string) => count(`SELECT count(*)::int AS count FROM memberships WHERE account_id = $1 AND user_id = $2`, [accountId, id]),
    /** Every membership of the account. */
    all: (accountId: string) => count(`SELECT count(*)::int AS count FROM memberships WHERE account_id = $1`, [accountId]),
    remove: (accountId: string, actorId: string, userId: string) =>
      services.users.remove({ actor: services.actor('user', actorId), accountId, userId, client }),
  },
  {
    kind: 'a subuser',
    invitation: 'identity.subuser.invited',
    next: () => {
      const login = `desk-${randomUUID().slice(0, 8)}`;
      return (accountId: string, actorId: string, requestKey: string) =>
        services.subusers.create({
          actor: services.actor('user', actorId),
          accountId,
          client,
          body: { login, email: `${login}@keys.test`, roles: ['Developer'] },
          requestKey,
        });
    },
    rows: (accountId: string, id: string) => count(`SELECT count(*)::int AS count FROM subusers WHERE account_id = $1 AND id = $2`, [accountId, id]),
    all: (accountId: string) => count(`SELECT count(*)::int AS count FROM subusers WHERE account_id = $1`, [accountId]),
    remove: (accountId: string, actorId: string, subuserId: string) =>
      services.subusers.remove({ actor: services.actor('user', actorId), accountId, subuserId, client }),
  },
];

async function count(sql: string, parameters: unknown[]): Promise<number> {
  const [{ count: n }] = await db.dataSource.query<Array<{ count: number }>>(sql, parameters);
  return n;
}

/** The invitation events in the outbox and the audit rows about `id`. */
async function traces(invitation: string, id: string): Promise<{ invitations: number; audits: number }> {
  return {
    invitations: await count(
      `SELECT count(*)::int AS count FROM outbox WHERE type = $1 AND $2 IN (payload->'data'->>'userId', payload->'data'->>'subuserId')`,
      [invitation, id],
    ),
    audits: await count(`SELECT count(*)::int AS count FROM audit_events WHERE target_id = $1`, [id]),
  };
}

/**
 * Sends `add` twice, the second while the first waits at the held outbox (uncommitted, its key claimed: both in flight
 * at once), and goes on with `then`; the side connection that holds the outbox is closed after.
 */
async function twiceAtOnce<T>(add: () => Promise<T>, then: (side: SideConnection, one: Promise<T>, other: Promise<T>) => Promise<void>): Promise<void> {
  const side = new SideConnection(db);
  await side.open();
  try {
    await side.holdOutbox();
    const one = add();
    await side.untilWaiting(1);
    const other = add();
    await side.untilWaiting(2);
    await then(side, one, other);
  } finally {
    await side.close();
  }
}

describe.each(KINDS)('adding $kind with a request key', ({ invitation, next, rows, all, remove }) => {
  it('sent twice with the same key, adds once: the same id both times, one row, one invitation event, one audit row', async () => {
    const { accountId, userId } = await db.account();
    const add = next();
    const key = randomUUID();
    const first = await add(accountId, userId, key);
    const again = await add(accountId, userId, key);
    expect(again).toEqual(first);
    expect(await rows(accountId, first.id)).toBe(1);
    expect(await traces(invitation, first.id)).toEqual({ invitations: 1, audits: 1 });
  });

  it('sent twice at once with the same key: the second waits for the first, and both answer the one id (one row)', async () => {
    const { accountId, userId } = await db.account();
    const add = next();
    const key = randomUUID();
    const before = await all(accountId);
    await twiceAtOnce<CreatedView>(
      () => add(accountId, userId, key),
      async (side, one, other) => {
        await side.release();
        const [a, b] = await Promise.all([one, other]);
        expect(b).toEqual(a);
        expect(await all(accountId)).toBe(before + 1);
        expect(await traces(invitation, a.id)).toEqual({ invitations: 1, audits: 1 });
      },
    );
  });

  it('whose first attempt rolled back (its replica died before the commit): the same key again, waiting meanwhile, does the work and keeps its answer', async () => {
    const { accountId, userId } = await db.account();
    const add = next();
    const key = randomUUID();
    await twiceAtOnce<CreatedView>(
      () => add(accountId, userId, key),
      async (side, one, other) => {
        await side.terminateWaiting('outbox');
        await expect(one).rejects.toThrow();
        await side.release();
        const answer = await other;
        expect(await rows(accountId, answer.id)).toBe(1);
        expect(await traces(invitation, answer.id)).toEqual({ invitations: 1, audits: 1 });
        const kept = await db.dataSource.query<Array<{ account: string; result: unknown }>>(
          `SELECT account_id AS account, result FROM request_keys WHERE key = $1`,
          [key],
        );
        expect(kept).toEqual([{ account: accountId, result: answer }]);
      },
    );
  });

  it('sent again after what it added was removed: 409, never the id of the one removed (the gateway binds nobody to it), and nothing added', async () => {
    const { accountId, userId } = await db.account();
    const key = randomUUID();
    const add = next();
    const { id } = await add(accountId, userId, key);
    await remove(accountId, userId, id);
    const before = await all(accountId);

    await expect(add(accountId, userId, key)).rejects.toMatchObject({ code: 'CONFLICT', details: { field: 'requestKey' } });
    expect(await all(accountId)).toBe(before);
  });

  it("with a key already used in another account: 409, never the other's answer, and nothing added", async () => {
    const [mine, theirs] = await Promise.all([db.account(), db.account()]);
    const key = randomUUID();
    await next()(theirs.accountId, theirs.userId, key);
    const before = await all(mine.accountId);
    await expect(next()(mine.accountId, mine.userId, key)).rejects.toMatchObject({ code: 'CONFLICT', details: { field: 'requestKey' } });
    expect(await all(mine.accountId)).toBe(before);
  });
});

describe('request keys', () => {
  it('are forgotten by housekeeping a day after their create, not before', async () => {
    const { accountId } = await db.account();
    const [old, fresh] = [randomUUID(), randomUUID()];
    await db.dataSource.query(
      `INSERT INTO request_keys (key, account_id, result, created_at) VALUES ($1, $3, '{}', now() - interval '25 hours'), ($2, $3, '{}', now() - interval '23 hours')`,
      [old, fresh, accountId],
    );
    const clock = new ManualClock(new Date());
    const housekeeping = new Housekeeping(db.dataSource, new ThrottleService(db.dataSource, clock), clock, {
      info: () => undefined,
      warn: () => undefined,
    } as unknown as Logger);
    expect((await housekeeping.sweep()).requestKeys).toBe(1);
    const left = await db.dataSource.query<Array<{ key: string }>>(`SELECT key FROM request_keys WHERE key = ANY($1)`, [[old, fresh]]);
    expect(left).toEqual([{ key: fresh }]);
  });
});

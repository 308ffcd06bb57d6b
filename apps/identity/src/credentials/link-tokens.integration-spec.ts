import { randomUUID } from 'node:crypto';
import { Events, linkTokenHash, type EventEnvelope, type LinksVoidedData } from '#libs/contracts/index.js';
import { ManualClock } from '#libs/platform/index.js';
import { IdentityTestDatabase } from '../database/integration-harness-spec.js';
import { OutboxWriter } from '#libs/outbox/index.js';
import { ActionTokensService } from './action-tokens.service.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const db = new IdentityTestDatabase();
let clock: ManualClock;
let tokens: ActionTokensService;
let user: { type: 'user'; id: string };
let accountId: string;

beforeAll(() => db.start({ RESET_TOKEN_TTL_MINUTES: '60', ACTIVATION_TOKEN_TTL_HOURS: '168' }));
afterAll(() => db.stop());
beforeEach(async () => {
  clock = new ManualClock();
  tokens = new ActionTokensService(clock, db.config, new OutboxWriter());
  const created = await db.account();
  accountId = created.accountId;
  user = { type: 'user', id: created.userId };
});

const issue = (purpose: 'activation' | 'reset', owner: { type: 'user' | 'subuser'; id: string } = user) =>
  db.dataSource.transaction((manager) => tokens.issue(manager, owner, accountId, purpose));
const consume = (token: string, purpose: 'activation' | 'reset') => db.dataSource.transaction((manager) => tokens.consume(manager, token, purpose));

/** The identity.links.voided events of this test's user's tokens in the outbox, oldest first. */
async function voidedEvents(): Promise<Array<EventEnvelope<typeof Events.LinksVoided>>> {
  const rows = await db.dataSource.query<Array<{ payload: EventEnvelope<typeof Events.LinksVoided> }>>(
    `SELECT payload FROM outbox WHERE type = $1 ORDER BY created_at, id`,
    [Events.LinksVoided],
  );
  const mine = new Set(
    (await db.dataSource.query<Array<{ token_hash: string }>>(`SELECT token_hash FROM action_tokens WHERE user_id = $1`, [user.id])).map((r) => r.token_hash),
  );
  return rows.map((row) => row.payload).filter((event) => (event.data as LinksVoidedData).tokenHashes.every((hash) => mine.has(hash)));
}

describe('link tokens on PostgreSQL, with a controllable clock (R2-R4)', () => {
  it.each([
    ['reset', 59 * MINUTE, true],
    ['reset', 60 * MINUTE, false],
    ['activation', 7 * 24 * HOUR - 1, true],
    ['activation', 7 * 24 * HOUR, false],
  ] as const)('a %s token used after %i ms works: %s (R3)', async (purpose, elapsed, works) => {
    const { token, expiresAt } = await issue(purpose);
    expect(expiresAt.getTime() - clock.now().getTime()).toBe(purpose === 'reset' ? HOUR : 7 * 24 * HOUR);
    clock.advance(elapsed);
    if (works) await expect(consume(token, purpose)).resolves.toMatchObject({ owner: user });
    else await expect(consume(token, purpose)).rejects.toMatchObject({ code: 'INVALID_TOKEN' });
  });

  it('follows the configured lifetime', async () => {
    const shortLived = new ActionTokensService(clock, { ...db.config, RESET_TOKEN_TTL_MINUTES: 15 }, new OutboxWriter());
    const { token } = await db.dataSource.transaction((manager) => shortLived.issue(manager, user, accountId, 'reset'));
    clock.advance(15 * MINUTE);
    await expect(consume(token, 'reset')).rejects.toMatchObject({ code: 'INVALID_TOKEN' });
  });

  it('works once (R2)', async () => {
    const { token } = await issue('reset');
    await consume(token, 'reset');
    await expect(consume(token, 'reset')).rejects.toMatchObject({ code: 'INVALID_TOKEN' });
  });

  it('is voided by a newer token for the same purpose, not by one for another purpose (R4)', async () => {
    const older = await issue('reset');
    const activation = await issue('activation');
    const newer = await issue('reset');
    await expect(consume(older.token, 'reset')).rejects.toMatchObject({ code: 'INVALID_TOKEN' });
    await expect(consume(newer.token, 'activation')).rejects.toMatchObject({ code: 'INVALID_TOKEN' });
    await consume(newer.token, 'reset');
    await consume(activation.token, 'activation');
  });

  it("is bound to its principal: another person's newer token does not void it", async () => {
    const other = { type: 'user' as const, id: (await db.account()).userId };
    const mine = await issue('reset');
    await issue('reset', other);
    await expect(consume(mine.token, 'reset')).resolves.toMatchObject({ owner: user, accountId });
  });

  it('is bound to its account: an activation link is voided by a newer one of its account only, a reset link by any newer one', async () => {
    const otherAccountId = (await db.account()).accountId;
    const inAccount = (account: string, purpose: 'activation' | 'reset') =>
      db.dataSource.transaction((manager) => tokens.issue(manager, user, account, purpose));
    const invitation = await inAccount(accountId, 'activation');
    const reset = await inAccount(accountId, 'reset');
    const elsewhere = await inAccount(otherAccountId, 'activation');
    await inAccount(otherAccountId, 'reset');
    await expect(consume(reset.token, 'reset')).rejects.toMatchObject({ code: 'INVALID_TOKEN' });
    await expect(consume(invitation.token, 'activation')).resolves.toMatchObject({ owner: user, accountId });
    await expect(consume(elsewhere.token, 'activation')).resolves.toMatchObject({ owner: user, accountId: otherAccountId });
  });

  it('names the links it voids in identity.links.voided, in the same transaction, and never the link that replaces them', async () => {
    const first = await issue('reset');
    const second = await issue('reset');
    const voided = await voidedEvents();
    expect(voided.map((event) => event.data.tokenHashes)).toEqual([[linkTokenHash(first.token)]]);
    await db.dataSource.transaction((manager) => tokens.voidAll(manager, user, { accountId }));
    expect((await voidedEvents()).map((event) => event.data.tokenHashes)).toEqual([[linkTokenHash(first.token)], [linkTokenHash(second.token)]]);
    // Nothing left to void: no event.
    await db.dataSource.transaction((manager) => tokens.voidAll(manager, user));
    expect(await voidedEvents()).toHaveLength(2);
  });

  it('names nothing when the voiding rolls back: the link still works', async () => {
    const { token } = await issue('reset');
    const rolledBack = db.dataSource.transaction(async (manager) => {
      await tokens.voidAll(manager, user);
      throw new Error('the change failed');
    });
    await expect(rolledBack).rejects.toThrow('the change failed');
    expect(await voidedEvents()).toEqual([]);
    await expect(consume(token, 'reset')).resolves.toMatchObject({ owner: user });
  });

  it('stores only a hash (R1)', async () => {
    const { token } = await issue('reset');
    const rows: unknown[] = await db.dataSource.query(`SELECT * FROM action_tokens`);
    expect(JSON.stringify(rows)).not.toContain(token);
  });

  it.each(['user', 'subuser'] as const)('is not issued for a %s that is gone (removed meanwhile): NOT_FOUND, not the foreign key failing', async (type) => {
    await expect(issue('reset', { type, id: randomUUID() })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});

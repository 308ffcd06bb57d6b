import { randomUUID } from 'node:crypto';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { PageQuery, USER_SORTS, type Actor, type Page } from '#libs/contracts/index.js';
import { IdentityTestDatabase } from '../database/integration-harness-spec.js';
import { IdentityServices } from '../database/services-harness-spec.js';
import { encodeCursor } from '#libs/platform/index.js';

const db = new IdentityTestDatabase();
const services = new IdentityServices(db);
const SOME_ID = '6f1c2d3e-4b5a-4c6d-8e7f-a0b1c2d3e4f5';
const SOME_TIME = '2026-01-01T10:00:00.123456Z';
let accountId: string;
let admin: Actor;
let memberIds: string[];

beforeAll(async () => {
  await db.start();
  await services.start();
  const created = await db.account();
  accountId = created.accountId;
  admin = services.actor('user', created.userId);
  memberIds = [created.userId];
  // Members who joined at different microseconds, some never signed in (their last sign-in sorts as -infinity), two at the same time.
  for (let n = 0; n < 6; n += 1) {
    const id = randomUUID();
    const joined = `2026-01-0${1 + (n % 3)}T10:00:00.00012${n}Z`;
    await db.dataSource.query(`INSERT INTO users (id, email, first_name, last_name, phone, status) VALUES ($1, $2, $3, 'Member', '+447700900125', 'active')`, [
      id,
      `member${n}@example.test`,
      `Zoé ${n % 4}`,
    ]);
    await db.dataSource.query(`INSERT INTO memberships (account_id, user_id, active, created_at, last_login_at) VALUES ($1, $2, true, $3, $4)`, [
      accountId,
      id,
      joined,
      n % 2 === 0 ? null : joined,
    ]);
    memberIds.push(id);
  }
  // The longest sort names there can be: 100 characters a name, each two UTF-16 code units (an emoji) or folded into five (㎮ -> rad/s),
  // control characters (six bytes each in a cursor's JSON); and the largest entry of memberships_scan: names of 100 characters of four
  // bytes that do not compress (no two alike), with the longest e-mail (a 64-byte local part, a 253-byte domain).
  const scattered = (from: number) => Array.from({ length: 100 }, (_, n) => String.fromCodePoint(0x20000 + (((from + n) * 7919) % 40000))).join('');
  const longestEmail = (id: string) =>
    `${id.slice(0, 8)}${'a'.repeat(56)}@${['b', 'c', 'd'].map((letter) => letter.repeat(63)).join('.')}.${'e'.repeat(57)}.com`;
  for (const [firstName, lastName, email] of [
    ['😀'.repeat(100), 'ß'.repeat(100)],
    ['😀'.repeat(99) + 'a', 'ß'.repeat(100)],
    ['㎮'.repeat(100), '㎮'.repeat(100)],
    ['㎮'.repeat(99) + 'a', '㎮'.repeat(100)],
    ['\u0001'.repeat(99) + 'a', '\u0001'.repeat(99) + 'b'],
    [scattered(0), scattered(100), longestEmail],
  ] as const) {
    const id = randomUUID();
    await db.dataSource.query(`INSERT INTO users (id, email, first_name, last_name, phone, status) VALUES ($1, $2, $3, $4, '+447700900126', 'active')`, [
      id,
      email?.(id) ?? `long-${id.slice(0, 8)}@example.test`,
      firstName,
      lastName,
    ]);
    await db.dataSource.query(`INSERT INTO memberships (account_id, user_id, active) VALUES ($1, $2, true)`, [accountId, id]);
    memberIds.push(id);
  }
  for (let n = 0; n < 5; n += 1) await services.audit.record(null, { accountIds: [accountId], action: 'login.failed', ip: `10.0.0.${n}` });
  await db.subuser(accountId, 'desk');
});
afterAll(() => db.stop());

const listUsers = (sort: (typeof USER_SORTS)[number], order: 'asc' | 'desc', cursor?: string, limit = 50) =>
  services.users.list({ actor: admin, accountId, client: { ip: '10.0.0.1' }, query: { sort, order, cursor, limit } });

/** Every item, page after page of `limit`; each cursor given passes the gateway's check of a page query, as a client would send it back. */
async function everyPage<T>(list: (cursor: string | undefined) => Promise<Page<T>>): Promise<T[]> {
  const items: T[] = [];
  let page = await list(undefined);
  items.push(...page.items);
  while (page.nextCursor) {
    expect(validateSync(plainToInstance(PageQuery, { cursor: page.nextCursor }))).toEqual([]);
    page = await list(page.nextCursor);
    items.push(...page.items);
  }
  return items;
}

describe('a cursor made or changed by hand', () => {
  it.each([
    ['a time that is not one', 'createdAt', ['createdAt', 'asc', 'yesterday', SOME_ID]],
    ['a zone PostgreSQL finds out of range', 'lastLoginAt', ['lastLoginAt', 'desc', '2024-01-01T00:00:00+0101:01', SOME_ID]],
    ['a day that does not exist', 'createdAt', ['createdAt', 'desc', '2026-02-30 10:00:00+00', SOME_ID]],
    ['an id that is not a UUID', 'createdAt', ['createdAt', 'asc', SOME_TIME, 'not-a-uuid']],
    ['a UUID with more after it', 'name', ['name', 'asc', 'zoe', `${SOME_ID}0`]],
    ['a NUL in the time', 'lastLoginAt', ['lastLoginAt', 'asc', `${SOME_TIME}\u0000`, SOME_ID]],
    ['a NUL in the name', 'name', ['name', 'asc', 'member zoe\u0000', SOME_ID]],
    ['a NUL in the e-mail', 'email', ['email', 'desc', 'member1@example.test\u0000', SOME_ID]],
  ] as const)('of the user table, with %s, is a 400 naming the cursor', async (_label, sort, parts) => {
    const cursor = encodeCursor([...parts]);
    await expect(listUsers(sort, parts[1], cursor)).rejects.toMatchObject({ code: 'VALIDATION_FAILED', details: { field: 'cursor' } });
  });

  it.each([
    ['a time that is not one', ['audit', 'soon', SOME_ID]],
    ['an hour that does not exist', ['audit', '2026-01-01T25:00:00.000000Z', SOME_ID]],
    ['a zone PostgreSQL finds out of range', ['audit', '2024-01-01T00:00:00+010101', SOME_ID]],
    ['a zone written with its colons out of place', ['audit', '2024-01-01T00:00:00+01:0101', SOME_ID]],
    ['an id that is not a UUID', ['audit', SOME_TIME, 'x']],
  ])('of the audit trail, with %s, is a 400 naming the cursor', async (_label, parts) => {
    await expect(services.audit.list(accountId, { cursor: encodeCursor(parts) })).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
      details: { field: 'cursor' },
    });
  });

  it('of the subusers, with a NUL in the login, is a 400 naming the cursor', async () => {
    const request = { actor: admin, accountId, client: { ip: '10.0.0.1' }, query: { cursor: encodeCursor(['login', 'desk\u0000']) } };
    await expect(services.subusers.list(request)).rejects.toMatchObject({ code: 'VALIDATION_FAILED', details: { field: 'cursor' } });
  });
});

describe('the cursors the API gives', () => {
  it.each(USER_SORTS.flatMap((sort) => [[sort, 'asc'] as const, [sort, 'desc'] as const]))(
    'page through the whole user table sorted by %s %s',
    async (sort, order) => {
      // Pages of one: every row's key goes into a cursor.
      const ids = (await everyPage((cursor) => listUsers(sort, order, cursor, 1))).map((user) => user.id);
      expect(ids.sort()).toEqual([...memberIds].sort());
    },
  );

  it('page through the whole audit trail', async () => {
    const events = await everyPage((cursor) => services.audit.list(accountId, { cursor, limit: 2 }));
    expect(new Set(events.map((event) => event.id)).size).toBe(5);
  });

  it('of the audit trail within a time window: a window that ends before it starts is a 400 naming `to`, not an empty page', async () => {
    const within = { from: '2026-01-01T00:00:00Z', to: '2099-01-01T00:00:00Z' };
    expect((await services.audit.list(accountId, within)).items).toHaveLength(5);
    for (const swapped of [
      { from: within.to, to: within.from },
      { from: within.from, to: within.from },
    ]) {
      await expect(services.audit.list(accountId, swapped)).rejects.toMatchObject({ code: 'VALIDATION_FAILED', details: { field: 'to' } });
    }
  });
});

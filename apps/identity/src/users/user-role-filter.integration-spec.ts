import { randomUUID } from 'node:crypto';
import { USER_SORTS, SORT_ORDERS, type Actor, type Principal } from '#libs/contracts/index.js';
import { freshIdentityServices } from '../database/services-harness-spec.js';
import { RoleProjection } from '../roles/role-projection.js';
import { nextUserCursor, userTableSql, type UserTableRequest } from './user-table.js';

const client = { ip: '10.0.0.1' };
const { db, services } = freshIdentityServices();
const ADMIN = 'builtin:Admin';
const DEVELOPER = 'builtin:Developer';
const CUSTOM = randomUUID();
let projection: RoleProjection;
let accountId: string;
let owner: Actor;
/** The members of the account, in the order they were added. */
const members: string[] = [];
let version = 0;

/** Tells the projection that `principal` holds `roleIds` in `account`, as an event of a new version would. */
async function bind(account: string, principal: Principal, roleIds: string[]): Promise<void> {
  await projection.apply({ accountId: account, principal, roleIds, version: ++version });
}

beforeAll(async () => {
  projection = new RoleProjection(db.dataSource);
  const created = await db.account();
  accountId = created.accountId;
  owner = services.actor('user', created.userId);
  for (let index = 0; index < 12; index++) {
    const { id } = await db.member(accountId);
    // Names, e-mails, creation and sign-in times in orders of their own (two alike: ties go by id); some never signed in.
    await db.dataSource.query(`UPDATE users SET first_name = $2, last_name = $3, email = $4 WHERE id = $1`, [
      id,
      `F${index % 5}`,
      `L${(index * 7) % 11}`,
      `e${(index * 5) % 12}-${id}@r.test`,
    ]);
    await db.dataSource.query(
      `UPDATE memberships SET created_at = now() - make_interval(days => $2), last_login_at = CASE WHEN $2 % 3 = 0 THEN NULL ELSE now() - make_interval(hours => $3) END WHERE user_id = $1`,
      [id, (index * 3) % 12, (index * 5) % 7],
    );
    members.push(id);
  }
  for (const index of [0, 3, 4, 6, 9, 11]) await bind(accountId, { type: 'user', id: members[index] }, [ADMIN]);
  for (const index of [1, 4]) await bind(accountId, { type: 'user', id: members[index] }, index === 4 ? [ADMIN, DEVELOPER] : [DEVELOPER]);
});

/** Every id of a user table asked for page by page (`limit` a page), following the cursors, as `userTableSql` reads it. */
async function everyPage(request: Omit<UserTableRequest, 'accountId' | 'actor' | 'limit' | 'cursor'>, limit: number): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | undefined;
  do {
    const asked: UserTableRequest = { ...request, accountId, actor: owner, limit, cursor };
    const { sql, parameters } = userTableSql(asked);
    const rows: Array<{ id: string; sortKey: string }> = await db.dataSource.query(sql, parameters);
    ids.push(...rows.slice(0, limit).map((row) => row.id));
    cursor = rows.length > limit ? nextUserCursor(asked, rows[limit - 1]) : undefined;
  } while (cursor);
  return ids;
}

const sortsAndOrders = USER_SORTS.flatMap((sort) => SORT_ORDERS.map((order) => [sort, order] as const));

describe('the user table filtered by role', () => {
  it.each(sortsAndOrders)(
    'keeps the holders, in the order of the unfiltered table, page after page, either way it finds them (by %s %s)',
    async (sort, order) => {
      const all = await everyPage({ sort, order }, 100);
      const admins = new Set([0, 3, 4, 6, 9, 11].map((index) => members[index]));
      const expected = all.filter((id) => admins.has(id));
      for (const fewHolders of [true, false]) {
        expect(await everyPage({ sort, order, roleIds: [ADMIN], fewHolders }, 2)).toEqual(expected);
        expect(await everyPage({ sort, order, roleIds: [ADMIN], fewHolders, search: 'r.test', largeAccount: true }, 2)).toEqual(expected);
      }
    },
  );

  it('keeps the holders of any of the roles named, each once, with the other filters', async () => {
    const list = async (query: object) =>
      (await services.users.list({ actor: owner, accountId, client, query: { limit: 100, ...query } })).items.map((item) => item.id).sort();
    const holders = (indexes: number[]) => indexes.map((index) => members[index]).sort();
    expect(await list({ role: [DEVELOPER] })).toEqual(holders([1, 4]));
    expect(await list({ role: [ADMIN, DEVELOPER] })).toEqual(holders([0, 1, 3, 4, 6, 9, 11]));
    await services.users.update({ actor: owner, accountId, client, userId: members[3], body: { active: false } });
    expect(await list({ role: [ADMIN], active: false })).toEqual(holders([3]));
    expect(await list({ role: [ADMIN], active: true, status: 'active', search: 'r.test' })).toEqual(holders([0, 4, 6, 9, 11]));
  });

  it("never shows another account's holders, nor anyone for a role nobody holds here (another account's, unknown): an empty page", async () => {
    const other = await db.account();
    const both = members[2];
    await db.dataSource.query('INSERT INTO memberships (account_id, user_id, active) VALUES ($1, $2, true)', [other.accountId, both]);
    await bind(other.accountId, { type: 'user', id: both }, [DEVELOPER, CUSTOM]);
    const list = async (role: string[]) => (await services.users.list({ actor: owner, accountId, client, query: { role } })).items.map((item) => item.id);
    expect(await list([DEVELOPER])).not.toContain(both);
    expect(await list([CUSTOM])).toEqual([]);
    expect(await list([randomUUID(), 'builtin:Nobody'])).toEqual([]);
  });

  it('drops a person from the filter once access unbinds them, and once they leave the account', async () => {
    const list = async () => (await services.users.list({ actor: owner, accountId, client, query: { role: [DEVELOPER] } })).items.map((item) => item.id);
    await bind(accountId, { type: 'user', id: members[1] }, []);
    expect(await list()).toEqual([members[4]]);
    await services.users.remove({ actor: owner, accountId, client, userId: members[4] });
    expect(await list()).toEqual([]);
  });

  it('finds a person added again holding the roles access kept for them while they were out (no event: access changed nothing), not while out', async () => {
    const list = async (role: string) => (await services.users.list({ actor: owner, accountId, client, query: { role: [role] } })).items.map((item) => item.id);
    const rejoin = (userId: string) => db.dataSource.query('INSERT INTO memberships (account_id, user_id, active) VALUES ($1, $2, true)', [accountId, userId]);
    // Removed while access kept the role (its unbinding failed: the gateway logs it and goes on), then added again with that
    // role: access finds the same bindings and tells nothing.
    const kept = (await db.member(accountId)).id;
    await bind(accountId, { type: 'user', id: kept }, [DEVELOPER]);
    await services.users.remove({ actor: owner, accountId, client, userId: kept });
    expect(await list(DEVELOPER)).not.toContain(kept);
    await rejoin(kept);
    expect(await list(DEVELOPER)).toContain(kept);
    // A role given while they were out (a rebinding that raced the removal, its second unbinding failed), then added again with it.
    const rebound = (await db.member(accountId)).id;
    await services.users.remove({ actor: owner, accountId, client, userId: rebound });
    await bind(accountId, { type: 'user', id: rebound }, [ADMIN]);
    expect(await list(ADMIN)).not.toContain(rebound);
    await rejoin(rebound);
    expect(await list(ADMIN)).toContain(rebound);
  });
});

describe('the subusers filtered by role', () => {
  it('keeps the holders of any of the roles named, with the other filters and page after page', async () => {
    const subusers: string[] = [];
    for (let index = 0; index < 6; index++) subusers.push(await db.subuser(accountId, `sub${index}`));
    for (const index of [0, 2, 3, 5]) await bind(accountId, { type: 'subuser', id: subusers[index] }, index === 5 ? [CUSTOM] : [DEVELOPER]);
    const list = async (query: object) => {
      const ids: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await services.subusers.list({ actor: owner, accountId, client, query: { limit: 1, ...query, ...(cursor && { cursor }) } });
        ids.push(...page.items.map((item) => item.id));
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      return ids;
    };
    const of = (indexes: number[]) => indexes.map((index) => subusers[index]);
    expect(await list({ role: [DEVELOPER] })).toEqual(of([0, 2, 3]));
    expect(await list({ role: [DEVELOPER, CUSTOM] })).toEqual(of([0, 2, 3, 5]));
    expect(await list({ role: [ADMIN] })).toEqual([]);
    await db.dataSource.query('UPDATE subusers SET active = false WHERE id = $1', [subusers[2]]);
    expect(await list({ role: [DEVELOPER], active: true, search: 'sub' })).toEqual(of([0, 3]));
    // People holding the role are not subusers.
    expect(await list({ role: [ADMIN, DEVELOPER] })).toEqual(of([0, 2, 3]));
  });
});

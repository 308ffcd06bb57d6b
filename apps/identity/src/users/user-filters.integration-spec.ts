import type { Actor, ListUsersQuery, UserRecord } from '#libs/contracts/index.js';
import { freshIdentityServices } from '../database/services-harness-spec.js';
import { nextUserCursor, userTableSql, type UserTableRequest } from './user-table.js';

const client = { ip: '10.0.0.1' };
const { db, services } = freshIdentityServices();
let accountId: string;
let owner: Actor;
/** Each person's e-mail in the account, by how the account sees them. */
const people: Record<string, string> = {};

beforeAll(async () => {
  const created = await db.account();
  accountId = created.accountId;
  owner = services.actor('user', created.userId);
  people.owner = `${(await db.dataSource.query('SELECT email FROM users WHERE id = $1', [created.userId]))[0].email}`;
  people.working = (await db.member(accountId)).email;
  const deactivated = await db.member(accountId);
  people.deactivated = deactivated.email;
  await services.users.update({ actor: owner, accountId, client, userId: deactivated.id, body: { active: false } });
  people.newcomer = 'newcomer@example.test';
  await add(people.newcomer);
  const newcomerAway = await add('newcomer-away@example.test');
  people.newcomerAway = 'newcomer-away@example.test';
  await services.users.update({ actor: owner, accountId, client, userId: newcomerAway, body: { active: false } });
  // People with a login elsewhere: their membership here waits for their consent (an invitation the account sees as pending).
  people.invited = (await db.member((await db.account()).accountId)).email;
  await add(people.invited);
  people.invitedAway = (await db.member((await db.account()).accountId)).email;
  await services.users.update({ actor: owner, accountId, client, userId: await add(people.invitedAway), body: { active: false } });
});

async function add(email: string): Promise<string> {
  const body = { firstName: 'Invited', lastName: 'Person', email, phone: '+447700900199', role: 'Developer' };
  return (await services.users.create({ actor: owner, accountId, client, body })).id;
}

/** Who the user table shows with the query, by the names given to them above, sorted. */
async function shown(query: ListUsersQuery): Promise<string[]> {
  const page = await services.users.list({ actor: owner, accountId, client, query: { limit: 100, ...query } });
  const byEmail = new Map(Object.entries(people).map(([name, email]) => [email, name]));
  return page.items.map((item: UserRecord) => byEmail.get(item.email) ?? item.email).sort();
}

describe('the user table filtered by status and active', () => {
  it('shows everyone, each as the account sees them, without a filter', async () => {
    expect(await shown({})).toEqual(['deactivated', 'invited', 'invitedAway', 'newcomer', 'newcomerAway', 'owner', 'working']);
  });

  it.each<[string, ListUsersQuery, string[]]>([
    ['pending: invited newcomers and people whose consent is awaited', { status: 'pending' }, ['invited', 'invitedAway', 'newcomer', 'newcomerAway']],
    ['active: people working with a password, deactivated or not', { status: 'active' }, ['deactivated', 'owner', 'working']],
    ['not active: deactivated members and invitations made inactive', { active: false }, ['deactivated', 'invitedAway', 'newcomerAway']],
    ['active: the others (an invitation waiting for consent counts as the account set it)', { active: true }, ['invited', 'newcomer', 'owner', 'working']],
    ['both filters at once', { status: 'pending', active: true }, ['invited', 'newcomer']],
    ['a filter with a search', { status: 'pending', search: 'newcomer' }, ['newcomer', 'newcomerAway']],
  ])('%s', async (_label, query, expected) => {
    expect(await shown(query)).toEqual(expected);
  });

  it.each([true, false])('filters a search alike whichever way the account is searched (large: %s), page after page', async (largeAccount) => {
    const emails: string[] = [];
    let cursor: string | undefined;
    do {
      const request: UserTableRequest = {
        accountId,
        actor: owner,
        search: 'person',
        active: false,
        largeAccount,
        sort: 'email',
        order: 'asc',
        limit: 1,
        cursor,
      };
      const { sql, parameters } = userTableSql(request, { probeMatches: 1, walkEntries: 2 });
      const rows: Array<{ email: string; id: string; sortKey: string }> = await db.dataSource.query(sql, parameters);
      emails.push(...rows.slice(0, 1).map((row) => row.email));
      cursor = rows.length > 1 ? nextUserCursor(request, rows[0]) : undefined;
    } while (cursor);
    expect(emails).toEqual([people.invitedAway, people.newcomerAway].sort());
  });
});

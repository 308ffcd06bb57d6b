import { randomUUID } from 'node:crypto';
import { SEARCH_TOO_SHORT, type Actor, type ListSubusersQuery } from '#libs/contracts/index.js';
import { freshIdentityServices } from '../database/services-harness-spec.js';
import { SUBUSER_SEARCH_TEXT } from './subusers.service.js';

const { db, services } = freshIdentityServices();
const client = { ip: '10.0.0.1' };
let accountId: string;
let owner: Actor;

/** Subusers of one account: login, e-mail, description, status, active. */
const SUBUSERS = [
  ['billing-desk', 'finance@example.test', 'Invoices and refunds', 'active', true],
  ['night-shift', null, 'Équipe de nuit', 'active', false],
  ['ops-100', 'ops@example.test', 'Operations 100%', 'pending', true],
  ['ops_200', 'noc@example.test', 'Network centre', 'pending', false],
  ['support-1', 'help@example.test', 'First line, Zoë', 'active', true],
] as const;

beforeAll(async () => {
  const created = await db.account();
  accountId = created.accountId;
  owner = services.actor('user', created.userId);
  for (const [login, email, description, status, active] of SUBUSERS) {
    await db.dataSource.query(
      `INSERT INTO subusers (id, account_id, login, email, description, password_hash, status, active) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [randomUUID(), accountId, login, email, description, status === 'active' ? 'x' : null, status, active],
    );
  }
  // Another account's subuser that every search below would match: never listed here.
  const other = await db.account();
  await db.subuser(other.accountId, 'ops-desk-elsewhere');
});

async function logins(query: ListSubusersQuery): Promise<string[]> {
  const page = await services.subusers.list({ actor: owner, accountId, client: { ip: '10.0.0.1' }, query });
  return page.items.map((item) => item.login);
}

describe('the subusers list, searched and filtered', () => {
  it.each<[string, string, string[]]>([
    ['a part of the login', 'ops', ['ops-100', 'ops_200']],
    ['the e-mail, any case', 'FINANCE@', ['billing-desk']],
    ['the description, accents ignored', 'equipe', ['night-shift']],
    ['an accented term against plain text', 'ïnvoïces', ['billing-desk']],
    ['a plain term against accented text', 'zoe', ['support-1']],
    ['a percent sign as itself', '00%', ['ops-100']],
    ['an underscore as itself', 'ops_', ['ops_200']],
    ['spaces collapsed', '  first   line ', ['support-1']],
    ['nothing', 'nobody-here', []],
  ])('finds %s', async (_label, search, expected) => {
    expect(await logins({ search })).toEqual(expected);
  });

  it('filters by status and by active, alone or with a search', async () => {
    expect(await logins({ status: 'pending' })).toEqual(['ops-100', 'ops_200']);
    expect(await logins({ status: 'active' })).toEqual(['billing-desk', 'night-shift', 'support-1']);
    expect(await logins({ active: false })).toEqual(['night-shift', 'ops_200']);
    expect(await logins({ active: true, status: 'pending' })).toEqual(['ops-100']);
    expect(await logins({ search: 'ops', active: false })).toEqual(['ops_200']);
  });

  it('pages a search by login, each page holding only matches', async () => {
    const first = await services.subusers.list({ actor: owner, accountId, client: { ip: '10.0.0.1' }, query: { search: 'example.test', limit: 2 } });
    expect(first.items.map((item) => item.login)).toEqual(['billing-desk', 'ops-100']);
    const second = await logins({ search: 'example.test', limit: 2, cursor: first.nextCursor! });
    expect(second).toEqual(['ops_200', 'support-1']);
  });

  it('refuses with 400 naming search a term that folding leaves shorter than 3 characters', async () => {
    await expect(logins({ search: 'a\u0301\u0301' })).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
      message: SEARCH_TOO_SHORT,
      details: { field: 'search' },
    });
  });
});

describe('the subusers search and its index', () => {
  it('compares the very expression the trigram index holds (subusers_search), so that a rare term is found from it', async () => {
    const large = await db.account();
    await db.dataSource.query(
      `INSERT INTO subusers (id, account_id, login, email, description, password_hash, status, active)
       SELECT gen_random_uuid(), $1, 'agent-' || lpad(n::text, 5, '0'), NULL, 'Support agent of the night shift', 'x', 'active', true
         FROM generate_series(1, 2000) AS n`,
      [large.accountId],
    );
    const page = await services.subusers.list({
      actor: services.actor('user', large.userId),
      accountId: large.accountId,
      client,
      query: { search: 'agent-00321' },
    });
    expect(page.items.map((item) => item.login)).toEqual(['agent-00321']);
    // Which scan the planner picks depends on the table's size; with the other scans priced out, whether the index can serve the search's expression at all.
    const plan = await db.dataSource.transaction(async (manager) => {
      await manager.query('SET LOCAL enable_seqscan = off');
      const query = `SELECT s.id FROM subusers s WHERE ${SUBUSER_SEARCH_TEXT} LIKE '%agent-00321%'`;
      return JSON.stringify(await manager.query(`EXPLAIN (FORMAT JSON) ${query}`));
    });
    expect(plan).toContain('"Index Name":"subusers_search"');
  });
});

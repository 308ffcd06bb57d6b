import { USER_SORTS, type SortOrder, type UserSort } from '#libs/contracts/index.js';
import { IdentityTestDatabase } from '../database/integration-harness-spec.js';
import { nextUserCursor, userTableSql, type LargeSearchPlan, type UserTableRequest } from './user-table.js';

/**
 * A large account's search (probe, bounded walk, then every match sorted) gives the same pages as
 * the plain search of a small account, whichever step settles it. The bounds are made small so
 * that 600 members play the large account: 5 matches probed, 40 entries walked, pages of 25.
 */
const db = new IdentityTestDatabase();
const PLAN: LargeSearchPlan = { probeMatches: 5, walkEntries: 40 };
const PAGE = 25;
let accountId: string;
let actor: UserTableRequest['actor'];

beforeAll(async () => {
  await db.start();
  const created = await db.account();
  accountId = created.accountId;
  actor = { type: 'user', id: created.userId };
  // 600 people: 30 Åbergs who sort first by name and last by e-mail, 30 Zulus the other way round,
  // 3 Rarities, and the rest spread everywhere; joined at different times, half never signed in.
  const people = `SELECT n, md5($1::text || n)::uuid AS id FROM generate_series(0, 599) AS n`;
  await db.dataSource.query(
    `INSERT INTO users (id, email, first_name, last_name, phone, status)
     SELECT id,
            CASE WHEN n < 30 THEN 'zz' || n || '@acme.test' WHEN n < 60 THEN 'aa' || n || '@acme.test' ELSE 'person' || n || '@example.test' END,
            'Zoé',
            CASE WHEN n < 30 THEN 'Åberg' WHEN n < 60 THEN 'Zulu' WHEN n < 63 THEN 'Rarity' ELSE 'Member' || (n % 7) END,
            '+4477009' || lpad(n::text, 5, '0'), 'active'
       FROM (${people}) AS people`,
    [accountId],
  );
  await db.dataSource.query(
    `INSERT INTO memberships (account_id, user_id, active, created_at, last_login_at)
     SELECT $1::uuid, id, true, now() - n * interval '1 minute', CASE WHEN n % 2 = 0 THEN now() - n * interval '1 second' END
       FROM (${people}) AS people`,
    [accountId],
  );
});
afterAll(() => db.stop());

/** Every id the search gives, page after page, with the large account's plan or the small one's. */
async function everyMatch(search: string, sort: UserSort, order: SortOrder, largeAccount: boolean): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | undefined;
  do {
    const request: UserTableRequest = { accountId, actor, search, largeAccount, sort, order, limit: PAGE, cursor };
    const { sql, parameters } = userTableSql(request, PLAN);
    const rows: Array<{ id: string; sortKey: string }> = await db.dataSource.query(sql, parameters);
    ids.push(...rows.slice(0, PAGE).map((row) => row.id));
    cursor = rows.length > PAGE ? nextUserCursor(request, rows[PAGE - 1]) : undefined;
  } while (cursor);
  return ids;
}

/** Whether the last step (every match, sorted) ran for the first page: its CTE's plan node tells whether it was executed. */
async function sortedEveryMatch(search: string, sort: UserSort, order: SortOrder): Promise<boolean> {
  const { sql, parameters } = userTableSql({ accountId, actor, search, largeAccount: true, sort, order, limit: PAGE }, PLAN);
  const [{ 'QUERY PLAN': plan }] = await db.dataSource.query(`EXPLAIN (ANALYZE, FORMAT JSON) ${sql}`, parameters);
  const nodes: Array<Record<string, unknown>> = [];
  const visit = (node: Record<string, unknown>) => {
    nodes.push(node);
    for (const child of (node.Plans as Array<Record<string, unknown>> | undefined) ?? []) visit(child);
  };
  visit(plan[0].Plan);
  const matched = nodes.find((node) => node['Subplan Name'] === 'CTE matched');
  if (!matched) throw new Error('the plan has no CTE matched');
  return (matched['Actual Loops'] as number) > 0;
}

describe("a large account's search", () => {
  const cases = ['aberg', 'zulu', 'rarity', 'example', 'member3', 'acme', 'nobody-here', '+4477009000'].flatMap((term) =>
    USER_SORTS.flatMap((sort) => (['asc', 'desc'] as const).map((order) => [term, sort, order] as const)),
  );

  it.each(cases)('finds %j sorted by %s %s, page after page, as the plain search does', async (term, sort, order) => {
    const plain = await everyMatch(term, sort, order, false);
    expect(await everyMatch(term, sort, order, true)).toEqual(plain);
  });

  it('exercises every step: a rare term settles in the probe, a common one walked, one gathered at the far end sorted', async () => {
    // The Åbergs sort first by name: walked at once ascending, found only by the last step descending.
    expect(await sortedEveryMatch('aberg', 'name', 'asc')).toBe(false);
    expect(await sortedEveryMatch('aberg', 'name', 'desc')).toBe(true);
    expect(await sortedEveryMatch('rarity', 'name', 'desc')).toBe(false);
    expect(await everyMatch('rarity', 'name', 'asc', true)).toHaveLength(3);
    expect(await everyMatch('aberg', 'name', 'desc', true)).toHaveLength(30);
  });
});

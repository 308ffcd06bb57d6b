import type { PersonStatus, Principal, SortOrder, UserSort } from '#libs/contracts/index.js';
import { worksInAccount } from '../accounts/account-scope.js';
import { decodeCursor, encodeCursor, exactTimestamp, type CursorPart } from '#libs/platform/index.js';
import { containing, searchTerm } from '../search/search-term.js';
import { PERSON_AS_THE_ACCOUNT_SEES } from './invitations.js';

/**
 * The user table's query, pure: search normalisation, keyset pagination and the SQL. Rows live
 * in `memberships`, which carries the (accent-folded) search text and sort keys of each person,
 * so every page is one index range of one account.
 */

/** A sort column: how it is read and compared (see the memberships_by_* indexes). */
interface SortKey {
  expression: string;
  type: 'text' | 'timestamptz';
}

/** How each sort column is read, compared and indexed. */
const SORT_KEYS: Record<UserSort, SortKey> = {
  name: { expression: 'm.sort_name', type: 'text' },
  email: { expression: 'm.email_lower', type: 'text' },
  createdAt: { expression: 'm.created_at', type: 'timestamptz' },
  lastLoginAt: { expression: `COALESCE(m.last_login_at, '-infinity'::timestamptz)`, type: 'timestamptz' },
};

/** What a cursor holds of a sort column: a time for timestamps, text otherwise. */
function cursorPartOf(key: SortKey): CursorPart {
  return key.type === 'timestamptz' ? 'time' : 'text';
}

/**
 * Below this many members, a search reads all the account's entries from the covering index
 * `memberships_scan` (index-only) and filters them (under a millisecond, whatever the term);
 * above it, the trigram index finds the matches. Small accounts that use the trigram index pay
 * for long posting lists of common trigrams.
 */
export const TRIGRAM_SEARCH_FROM = 2000;

/**
 * Up to this many holders of the roles asked for in the account (role_holdings entries, counted
 * from its index up to one more), a `role` filter starts from them (each one's membership looked up
 * by its key, then sorted): a role few hold is found without walking the account. Beyond, the page
 * walks the sort index as without the filter, each entry checked against the holders' key (index
 * only), until the page is full: a role most hold fills it after a few entries. Both cost about a
 * lookup an entry: the holders' count, or 50 / (the share holding it) for the walk, even at some
 * 2,200 holders in a 100,000-member account (measured on a loaded machine: 1 % held, 4-32 ms from
 * the holders, 205-550 ms walking; 5 %, 38-84 ms from the holders, 11-31 ms walking; docs/identity.md).
 */
export const FEW_ROLE_HOLDERS = 2000;

/** The user table's condition on `memberships m` of holding any of the roles `$roles` (the projection's key: one index probe an entry). */
function holdsAnyRole(roles: string): string {
  return `EXISTS (SELECT 1 FROM role_holdings h WHERE h.account_id = m.account_id AND h.principal_type = 'user' AND h.principal_id = m.user_id AND h.role_id = ANY(${roles}::text[]))`;
}

/**
 * The memberships of the holders of any of the roles `$roles` (from role_holdings_by_role), each
 * looked up by its key: the holders drive (LATERAL, its `LIMIT 1` keeps the planner from turning it
 * into a join that reads the whole account to hash it, as it did when one account filled the table).
 */
function holdersFirst(roles: string): string {
  return `(SELECT DISTINCT h.principal_id FROM role_holdings h
             WHERE h.account_id = $1 AND h.principal_type = 'user' AND h.role_id = ANY(${roles}::text[])) AS holder
           CROSS JOIN LATERAL (SELECT * FROM memberships mm WHERE mm.account_id = $1 AND mm.user_id = holder.principal_id LIMIT 1) AS m`;
}

/** What a page is asked for. */
export interface UserTableRequest {
  accountId: string;
  /** Who asks: the page is empty unless they work in the account now (the caller then tells 404 from an empty page). */
  actor: Principal;
  search?: string;
  /** Only people whose status (as the account sees it) is this one. */
  status?: PersonStatus;
  /** Only people active (true) or not (false) in the account, as the account sees it. */
  active?: boolean;
  /** Whether the account is large enough for the trigram index (see {@link TRIGRAM_SEARCH_FROM}); default true. */
  largeAccount?: boolean;
  /** Only people holding any of these roles (ids), as identity's role projection says. */
  roleIds?: string[];
  /** Whether the roles have at most {@link FEW_ROLE_HOLDERS} holders in the account: the page then starts from them (see {@link HOLDERS_FIRST}). */
  fewHolders?: boolean;
  sort: UserSort;
  order: SortOrder;
  limit: number;
  cursor?: string;
}

/**
 * How a search in a large account finds its page (see {@link searchInBoundedSteps}): in steps of
 * bounded cost, whatever the planner guesses of the term, since its guess of how many people match
 * cannot tell where they sort.
 */
export interface LargeSearchPlan {
  /** First, at most this many matches are looked for in any order: fewer, and they are all the matches. */
  probeMatches: number;
  /** Then at most this many entries are read in the page's order (the sort index) before the rest of the matches are found and sorted. */
  walkEntries: number;
}

/**
 * Walking the sort index finds a page of a common term after a few hundred entries, but costs about
 * a microsecond an entry (each one's search text is read from the table): a term whose people all
 * sort at the far end (`åberg`, sorted by name from Z) was walked past a whole 200k-member account,
 * a quarter of a second, when the planner chose the walk for it. Finding every match (the trigram
 * index) is fast for a rare term, but a common one's matches then all have to be sorted: tens of
 * milliseconds for one person in ten. The probe settles a rare term at once; the bounded walk, a
 * common one that is spread through the order; only a common term gathered far along pays for the
 * sort (docs/identity.md has the measurements).
 */
export const LARGE_SEARCH_PLAN: LargeSearchPlan = { probeMatches: 200, walkEntries: 5000 };

/** The SQL and parameters of one page (one row more than the limit, to know whether another page follows). */
export function userTableSql(request: UserTableRequest, plan = LARGE_SEARCH_PLAN): { sql: string; parameters: unknown[] } {
  const key = SORT_KEYS[request.sort];
  const direction = request.order === 'desc' ? 'DESC' : 'ASC';
  const parameters: unknown[] = [request.accountId, request.actor.id];
  const where = ['m.account_id = $1'];
  let pattern: string | undefined;
  if (request.search !== undefined) {
    parameters.push(searchTerm(request.search));
    pattern = containing(`$${parameters.length}`);
  }
  where.push(...filterConditions(request));
  let from = 'memberships m';
  if (request.roleIds !== undefined) {
    parameters.push(request.roleIds);
    if (request.fewHolders) from = holdersFirst(`$${parameters.length}`);
    else where.push(holdsAnyRole(`$${parameters.length}`));
  }
  const after = decodeCursor(request.cursor, [request.sort, request.order], [cursorPartOf(key), 'uuid']);
  if (after) {
    parameters.push(after[0], after[1]);
    where.push(`(${key.expression}, m.user_id) ${beyond(request.order)} ($${parameters.length - 1}::${key.type}, $${parameters.length}::uuid)`);
  }
  parameters.push(request.limit + 1);
  const page: PageParts = { key, direction, where: where.join(' AND '), limit: `$${parameters.length}`, from };
  let rows: string;
  if (pattern === undefined) rows = pageInOrder(page);
  // `search || ''` is the same text, but no index matches it: the planner then reads the account's entries (or the few holders').
  else if (request.largeAccount === false || request.fewHolders) rows = pageInOrder({ ...page, where: `${page.where} AND (m.search || '') LIKE ${pattern}` });
  else {
    parameters.push(plan.probeMatches, plan.walkEntries);
    rows = searchInBoundedSteps(page, pattern, request.order, { probeMatches: `$${parameters.length - 1}`, walkEntries: `$${parameters.length}` });
  }
  // The page is cut from memberships alone (search, sort keys, cursor all live there); only its
  // rows are then joined to their people, however many rows the search matched. Whether the actor
  // works here is asked once, before any of it runs (it does not depend on a row).
  const sql = `
    SELECT m.user_id AS id, ${PERSON_AS_THE_ACCOUNT_SEES},
           m.created_at AS "createdAt", m.last_login_at AS "lastLoginAt", ${sortKeyText(key, 'm.sort_value')} AS "sortKey",
           m.user_id = (SELECT a.owner_user_id FROM accounts a WHERE a.id = $1) AS owner
      FROM (${rows}) AS m
      JOIN users u ON u.id = m.user_id
      LEFT JOIN membership_invitations i ON i.account_id = $1 AND i.user_id = m.user_id
     WHERE ${actorWorksHere(request.actor)}
     ORDER BY m.sort_value ${direction}, m.user_id ${direction}`;
  return { sql, parameters };
}

/** The invitation of the membership `m`, if it waits for the person's consent: what the account typed, and the active flag it chose. */
const INVITATION_OF_M = 'membership_invitations i WHERE i.account_id = m.account_id AND i.user_id = m.user_id';

/**
 * Never signed in to the account: true of everyone pending (no password, or an invitation waiting,
 * whose membership is inactive: sign-ins set `last_login_at` only on active memberships of people
 * with a password), and read from an index (memberships_by_last_login), so that a page of pending
 * people need not look at everyone else.
 */
const NEVER_SIGNED_IN_HERE = `COALESCE(m.last_login_at, '-infinity'::timestamptz) = '-infinity'::timestamptz`;

/**
 * The conditions on `memberships m` of the filters asked for, as {@link PERSON_AS_THE_ACCOUNT_SEES}
 * shows status and active: pending while an invitation waits or the person has no password yet; the
 * invitation's active flag while it waits, the membership's after. Each is a lookup by primary key
 * of the row at hand, so they join every plan's conditions (search and cursor alike).
 */
function filterConditions({ status, active }: Pick<UserTableRequest, 'status' | 'active'>): string[] {
  const conditions: string[] = [];
  if (status !== undefined) {
    const pending = `(EXISTS (SELECT 1 FROM ${INVITATION_OF_M}) OR (SELECT u.status FROM users u WHERE u.id = m.user_id) = 'pending')`;
    // Whoever signed in here is not pending: only the others are looked up (people and invitations).
    conditions.push(status === 'pending' ? `${NEVER_SIGNED_IN_HERE} AND ${pending}` : `(m.last_login_at IS NOT NULL OR NOT ${pending})`);
  }
  if (active === false) conditions.push(`NOT m.active AND NOT COALESCE((SELECT i.active FROM ${INVITATION_OF_M}), false)`);
  if (active === true) conditions.push(`COALESCE((SELECT i.active FROM ${INVITATION_OF_M}), m.active)`);
  return conditions;
}

/** Whether the actor (`$2`) works in the account (`$1`) now: else the page is empty. */
function actorWorksHere(actor: UserTableRequest['actor']): string {
  return worksInAccount(actor.type, '$1', '$2');
}

/** What every way of cutting a page shares: the sort, the conditions on `memberships m`, and the parameter of the row count. */
interface PageParts {
  key: SortKey;
  direction: 'ASC' | 'DESC';
  where: string;
  limit: string;
  /** Where `memberships m` come from: the table, or the holders of a role ({@link holdersFirst}; only {@link pageInOrder} takes them). */
  from: string;
}

/** The comparison that keeps what comes after a row in the page's order. */
function beyond(order: SortOrder): '<' | '>' {
  return order === 'desc' ? '<' : '>';
}

/** The columns a page takes from `memberships m`. */
function pageColumns(key: SortKey): string {
  return `m.user_id, m.active, m.created_at, m.last_login_at, ${key.expression} AS sort_value`;
}

/** The page's rows in order, as the planner finds them best (no search: the sort index alone). */
function pageInOrder({ key, direction, where, limit, from }: PageParts): string {
  return `SELECT ${pageColumns(key)}
              FROM ${from}
             WHERE ${where}
             ORDER BY ${key.expression} ${direction}, m.user_id ${direction}
             LIMIT ${limit}`;
}

/**
 * A large account's search, in up to three steps, each run only if the ones before did not give the
 * page: `probe`, up to `probeMatches` matches in any order (through the trigram index for a rare
 * term, the account's entries for a common one): fewer, and they are all the matches, sorted here;
 * `walked`, the matches among the first `walkEntries` entries in the page's order (the walk stops
 * once the page is full); then the matches after the last entry walked (`boundary`), all of them
 * (`matched`, fenced so that the planner cannot turn it back into a walk), sorted. `plan` names the
 * SQL parameters of the two bounds.
 */
function searchInBoundedSteps(
  { key, direction, where, limit }: PageParts,
  pattern: string,
  order: SortOrder,
  plan: { [step in keyof LargeSearchPlan]: string },
): string {
  const inOrder = `ORDER BY ${key.expression} ${direction}, m.user_id ${direction}`;
  const probed = `(SELECT count(*) FROM probe)`;
  return `WITH probe AS MATERIALIZED (
              SELECT ${pageColumns(key)} FROM memberships m WHERE ${where} AND m.search LIKE ${pattern} LIMIT ${plan.probeMatches}),
            walked AS (
              SELECT w.user_id, w.active, w.created_at, w.last_login_at, w.sort_value
                FROM (SELECT ${pageColumns(key)}, m.search FROM memberships m WHERE ${where} ${inOrder} LIMIT ${plan.walkEntries}) AS w
               WHERE w.search LIKE ${pattern}
               ORDER BY w.sort_value ${direction}, w.user_id ${direction}
               LIMIT ${limit}),
            boundary AS (
              SELECT ${key.expression} AS sort_value, m.user_id FROM memberships m WHERE ${where} ${inOrder} OFFSET ${plan.walkEntries} - 1 LIMIT 1),
            matched AS MATERIALIZED (
              SELECT ${pageColumns(key)} FROM memberships m WHERE ${where} AND m.search LIKE ${pattern})
            SELECT p.* FROM (
              SELECT * FROM probe WHERE ${probed} < ${plan.probeMatches}
              UNION ALL
              SELECT * FROM walked WHERE ${probed} >= ${plan.probeMatches}
              UNION ALL
              SELECT * FROM matched x
               WHERE ${probed} >= ${plan.probeMatches} AND (SELECT count(*) FROM walked) < ${limit}
                 AND (x.sort_value, x.user_id) ${beyond(order)} (SELECT b.sort_value, b.user_id FROM boundary b)) AS p
             ORDER BY p.sort_value ${direction}, p.user_id ${direction}
             LIMIT ${limit}`;
}

/** The sort value (`value`, of the sort column `key`) as a cursor holds it: a time exactly (microseconds, UTC, whatever the session's DateStyle). */
function sortKeyText(key: SortKey, value: string): string {
  return cursorPartOf(key) === 'time' ? exactTimestamp(value) : `(${value})::text`;
}

/** The cursor of the page after the one that ended with `last`. */
export function nextUserCursor(request: UserTableRequest, last: { sortKey: string; id: string }): string {
  return encodeCursor([request.sort, request.order, last.sortKey, last.id]);
}

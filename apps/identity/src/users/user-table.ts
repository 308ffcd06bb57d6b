import type { SortOrder, UserSort } from '#libs/contracts/index.js';
import { decodeCursor, encodeCursor, exactTimestamp, type CursorPart } from '#libs/platform/index.js';
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

/** What a page is asked for. */
export interface UserTableRequest {
  accountId: string;
  /** Who asks: the page is empty unless they work in the account now (the caller then tells 404 from an empty page). */
  actor: { type: 'user' | 'subuser'; id: string };
  search?: string;
  /** Whether the account is large enough for the trigram index (see {@link TRIGRAM_SEARCH_FROM}); default true. */
  largeAccount?: boolean;
  sort: UserSort;
  order: SortOrder;
  limit: number;
  cursor?: string;
}

/**
 * A search term as it is looked for: spaces collapsed; a term that looks like a phone number loses
 * its spaces, dots, dashes and brackets, since phones are stored in E.164 (`+44 7700-900` finds
 * `+447700900123`). SQL then folds it as the indexed text is, and only then escapes LIKE's wildcards
 * ({@link containing}): folding makes `%`, `_` and `\` of full-width ones (`％`, `＿`, `＼`).
 */
export function searchTerm(term: string): string {
  const trimmed = term.trim().replace(/\s+/g, ' ');
  const phoneLike = /^\+?[\d\s().\/-]+$/.test(trimmed) && (trimmed.match(/\d/g)?.length ?? 0) >= 3;
  return phoneLike ? trimmed.replace(/[^\d+]/g, '').replace(/(?!^)\+/g, '') : trimmed;
}

/** The LIKE pattern, in SQL, of text containing the term in parameter `$n`: folded, then its wildcards escaped so that each matches itself. */
function containing(n: number): string {
  const folded = `identity.fold($${n})`;
  return `('%' || replace(replace(replace(${folded}, '\\', '\\\\'), '%', '\\%'), '_', '\\_') || '%')`;
}

/** The SQL and parameters of one page (one row more than the limit, to know whether another page follows). */
export function userTableSql(request: UserTableRequest): { sql: string; parameters: unknown[] } {
  const key = SORT_KEYS[request.sort];
  const direction = request.order === 'desc' ? 'DESC' : 'ASC';
  const parameters: unknown[] = [request.accountId, request.actor.id];
  const where = [
    'm.account_id = $1',
    request.actor.type === 'user'
      ? 'EXISTS (SELECT 1 FROM memberships me WHERE me.account_id = $1 AND me.user_id = $2 AND me.active)'
      : 'EXISTS (SELECT 1 FROM subusers me WHERE me.account_id = $1 AND me.id = $2 AND me.active)',
  ];
  if (request.search !== undefined) {
    parameters.push(searchTerm(request.search));
    // `search || ''` is the same text, but no index matches it: the planner then walks the account.
    const column = request.largeAccount === false ? "(m.search || '')" : 'm.search';
    where.push(`${column} LIKE ${containing(parameters.length)}`);
  }
  const after = decodeCursor(request.cursor, [request.sort, request.order], [cursorPartOf(key), 'uuid']);
  if (after) {
    parameters.push(after[0], after[1]);
    const comparison = request.order === 'desc' ? '<' : '>';
    where.push(`(${key.expression}, m.user_id) ${comparison} ($${parameters.length - 1}::${key.type}, $${parameters.length}::uuid)`);
  }
  parameters.push(request.limit + 1);
  // The page is cut from memberships alone (search, sort keys, cursor all live there); only its
  // rows are then joined to their people, however many rows the search matched.
  const sql = `
    SELECT m.user_id AS id, ${PERSON_AS_THE_ACCOUNT_SEES},
           m.created_at AS "createdAt", m.last_login_at AS "lastLoginAt", m.sort_key AS "sortKey",
           m.user_id = (SELECT a.owner_user_id FROM accounts a WHERE a.id = $1) AS owner
      FROM (SELECT m.user_id, m.active, m.created_at, m.last_login_at, ${key.expression} AS sort_value, ${sortKeyText(key)} AS sort_key
              FROM memberships m
             WHERE ${where.join(' AND ')}
             ORDER BY ${key.expression} ${direction}, m.user_id ${direction}
             LIMIT $${parameters.length}) AS m
      JOIN users u ON u.id = m.user_id
      LEFT JOIN membership_invitations i ON i.account_id = $1 AND i.user_id = m.user_id
     ORDER BY m.sort_value ${direction}, m.user_id ${direction}`;
  return { sql, parameters };
}

/** The sort value as a cursor holds it: a time exactly (microseconds, UTC, whatever the session's DateStyle). */
function sortKeyText(key: SortKey): string {
  return cursorPartOf(key) === 'time' ? exactTimestamp(key.expression) : `(${key.expression})::text`;
}

/** The cursor of the page after the one that ended with `last`. */
export function nextUserCursor(request: UserTableRequest, last: { sortKey: string; id: string }): string {
  return encodeCursor([request.sort, request.order, last.sortKey, last.id]);
}

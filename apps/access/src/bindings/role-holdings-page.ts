import type { RoleHoldingsOfPrincipal, RoleHoldingsPage, RoleHoldingsPageRequest } from '#libs/contracts/index.js';
import { decodeCursor, encodeCursor } from '#libs/platform/index.js';
import { principalKey, principalOfKey, type DecisionStore } from '../checks/decision-store.js';

/** Page size of `access.role-holdings.page` when the request names none. */
export const DEFAULT_ROLE_HOLDINGS_PAGE = 500;

/**
 * Most bytes of items a page carries: far below NATS's largest message (1 MB by default), whatever
 * the principals hold (up to 50 roles each, a page of 1,000 would be some 2 MB). A page stops
 * before the item that would pass it (never before its first).
 */
export const ROLE_HOLDINGS_PAGE_BYTES = 256 * 1024;

/** What a cursor of this page starts with (a cursor of another list is refused). */
const CURSOR_KIND = 'role-holdings';

/**
 * A page of every principal's roles, by account id then principal key, from the state in memory:
 * each account's roles read with its version at once, so that identity keeps them only when no
 * later change of the principal reached it first. Principals bound to nothing are not listed.
 */
export function roleHoldingsPage(store: DecisionStore, { cursor, limit }: RoleHoldingsPageRequest): RoleHoldingsPage {
  const size = limit ?? DEFAULT_ROLE_HOLDINGS_PAGE;
  const after = decodeCursor(cursor ?? undefined, [CURSOR_KIND], ['uuid', 'text']);
  const items: RoleHoldingsOfPrincipal[] = [];
  let bytes = 0;
  for (const accountId of store.accountIds().sort()) {
    if (after && accountId < after[0]) continue;
    const version = store.versionOf(accountId);
    const bound = store.boundPrincipals(accountId);
    for (const key of [...bound.keys()].sort()) {
      if (after && accountId === after[0] && key <= after[1]) continue;
      const roleIds = [...new Set((bound.get(key) ?? []).map((binding) => binding.roleId))];
      const item = { accountId, principal: principalOfKey(key), roleIds, version };
      bytes += Buffer.byteLength(JSON.stringify(item));
      if (items.length === size || (items.length > 0 && bytes > ROLE_HOLDINGS_PAGE_BYTES)) {
        return { items, nextCursor: encodeCursor([CURSOR_KIND, ...lastKey(items)]) };
      }
      items.push(item);
    }
  }
  return { items, nextCursor: null };
}

/** The account and principal key of the page's last item. */
function lastKey(items: RoleHoldingsOfPrincipal[]): [string, string] {
  const { accountId, principal } = items[items.length - 1];
  return [accountId, principalKey(principal)];
}

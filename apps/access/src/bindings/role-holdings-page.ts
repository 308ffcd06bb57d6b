import type { RoleHoldingsOfPrincipal, RoleHoldingsPage, RoleHoldingsPageRequest } from '#libs/contracts/index.js';
import { decodeCursor, encodeCursor } from '#libs/platform/index.js';
import { principalKey, principalOfKey, type DecisionStore } from '../checks/decision-store.js';

/** Page size of `access.role-holdings.page` when the request names none. */
export const DEFAULT_ROLE_HOLDINGS_PAGE = 500;

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
  for (const accountId of store.accountIds().sort()) {
    if (after && accountId < after[0]) continue;
    const version = store.versionOf(accountId);
    const bound = store.boundPrincipals(accountId);
    for (const key of [...bound.keys()].sort()) {
      if (after && accountId === after[0] && key <= after[1]) continue;
      if (items.length === size) return { items, nextCursor: encodeCursor([CURSOR_KIND, ...lastKey(items)]) };
      const roleIds = [...new Set((bound.get(key) ?? []).map((binding) => binding.roleId))];
      items.push({ accountId, principal: principalOfKey(key), roleIds, version });
    }
  }
  return { items, nextCursor: null };
}

/** The account and principal key of the page's last item. */
function lastKey(items: RoleHoldingsOfPrincipal[]): [string, string] {
  const { accountId, principal } = items[items.length - 1];
  return [accountId, principalKey(principal)];
}

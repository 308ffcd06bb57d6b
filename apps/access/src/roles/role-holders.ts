import { DEFAULT_PAGE_SIZE, PRINCIPAL_TYPES, type Page, type PageQuery, type Principal, type RoleHolderView } from '#libs/contracts/index.js';
import { DomainError, ErrorCode } from '#libs/errors/index.js';
import { decodeCursor, encodeCursor } from '#libs/platform/index.js';
import type { BindingRecord } from '../checks/decision-store.js';

/** The sort a holders cursor belongs to. */
const HOLDERS_SORT = 'holders';

/**
 * Where a principal holds `roleId`, from its bindings: null (every application) when one binding
 * of the role is unlimited, else the applications its bindings of the role name, each once, sorted.
 */
export function heldApplications(bindings: BindingRecord[], roleId: string): string[] | null {
  const ofRole = bindings.filter((binding) => binding.roleId === roleId);
  if (ofRole.some((binding) => binding.applicationIds === null)) return null;
  return [...new Set(ofRole.flatMap((binding) => binding.applicationIds ?? []))].sort();
}

/**
 * One page of a role's holders, by principal type, then id (each id is a lower-case UUID, so the
 * order is total and stable while holders come and go): the holders after the cursor's, at most
 * `limit` (50 by default), and the cursor of the next page (null on the last one). A cursor this
 * sort did not give is a 400 naming `cursor`.
 */
export function holdersPage(holders: RoleHolderView[], query: PageQuery = {}): Page<RoleHolderView> {
  const limit = query.limit ?? DEFAULT_PAGE_SIZE;
  const after = afterCursor(query.cursor);
  const rest = (after ? holders.filter((holder) => compareHolders(holder.principal, after) > 0) : [...holders]).sort((a, b) =>
    compareHolders(a.principal, b.principal),
  );
  const items = rest.slice(0, limit);
  const last = items.at(-1);
  return { items, nextCursor: rest.length > limit && last ? encodeCursor([HOLDERS_SORT, last.principal.type, last.principal.id]) : null };
}

/** The principal a holders cursor ends at; none without a cursor. */
function afterCursor(cursor: string | undefined): Principal | undefined {
  const parts = decodeCursor(cursor, [HOLDERS_SORT], ['text', 'uuid']);
  if (!parts) return undefined;
  const [type, id] = parts;
  if (!(PRINCIPAL_TYPES as readonly string[]).includes(type)) {
    throw new DomainError(ErrorCode.ValidationFailed, 'cursor is not one this API gave for this sort', { field: 'cursor' });
  }
  return { type: type as Principal['type'], id: id.toLowerCase() };
}

/** Principal type, then id (code-unit order: the same on every replica, whatever the locale). */
function compareHolders(a: Principal, b: Principal): number {
  if (a.type !== b.type) return a.type < b.type ? -1 : 1;
  if (a.id === b.id) return 0;
  return a.id < b.id ? -1 : 1;
}

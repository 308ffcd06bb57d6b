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
 * What a caller who sees only some applications (`visible`) is shown of where a role is held: those
 * of them the holder's bindings name (every application, null, stays so: it names none).
 */
export function shownApplications(held: string[] | null, visible: 'all' | string[]): string[] | null {
  if (held === null || visible === 'all') return held;
  const seen = new Set(visible);
  return held.filter((applicationId) => seen.has(applicationId));
}

/**
 * One page of a role's holders, by principal type, then id (each id is a lower-case UUID, so the
 * order is total and stable while holders come and go): the holders after the cursor's, at most
 * `limit` (50 by default), and the cursor of the next page (null on the last one). A cursor this
 * sort did not give is a 400 naming `cursor`. Only the page's holders are described (`describe`):
 * a page of a role held by 100,000 costs their sort, not their bindings' walk.
 */
export function holdersPage(holders: Principal[], query: PageQuery | null | undefined, describe: (holder: Principal) => RoleHolderView): Page<RoleHolderView> {
  const limit = query?.limit ?? DEFAULT_PAGE_SIZE;
  // One more than the page: whether another page follows.
  const first = firstAfter(holders, afterCursor(query?.cursor), limit + 1);
  const page = first.slice(0, limit);
  const last = page.at(-1);
  return { items: page.map(describe), nextCursor: first.length > limit && last ? encodeCursor([HOLDERS_SORT, last.type, last.id]) : null };
}

/**
 * The first `count` holders after `after` in {@link compareHolders}' order, in one pass that keeps
 * only them (sorted): a page of a role held by 100,000 compares each once with the last kept, where
 * sorting them all took 100 ms.
 */
function firstAfter(holders: Principal[], after: Principal | undefined, count: number): Principal[] {
  const kept: Principal[] = [];
  for (const holder of holders) {
    if (after && compareHolders(holder, after) <= 0) continue;
    if (kept.length === count && compareHolders(holder, kept[count - 1]) >= 0) continue;
    let low = 0;
    let high = kept.length;
    while (low < high) {
      const middle = (low + high) >> 1;
      if (compareHolders(kept[middle], holder) < 0) low = middle + 1;
      else high = middle;
    }
    kept.splice(low, 0, holder);
    if (kept.length > count) kept.pop();
  }
  return kept;
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

import type { EntityManager } from 'typeorm';
import { MIN_SEARCH_LENGTH, SEARCH_TOO_SHORT, searchableLength } from '#libs/contracts/index.js';
import { DomainError, ErrorCode } from '#libs/errors/index.js';

/**
 * Searches of the user table and of the subusers, pure but for {@link assertSearchable}: how a term
 * is read, and the LIKE pattern that finds it in text folded as `identity.fold` folds (lower case,
 * accents off).
 */

/** A search term with its spaces trimmed and collapsed: what the subusers' search looks for. */
export function collapsedTerm(term: string): string {
  return term.trim().replace(/\s+/g, ' ');
}

/**
 * A search term of the user table as it is looked for: spaces collapsed; a term that looks like a
 * phone number loses its spaces, dots, dashes and brackets, since phones are stored in E.164
 * (`+44 7700-900` finds `+447700900123`). SQL then folds it as the indexed text is, and only then
 * escapes LIKE's wildcards ({@link containing}): folding makes `%`, `_` and `\` of full-width ones
 * (`％`, `＿`, `＼`).
 */
export function searchTerm(term: string): string {
  const trimmed = collapsedTerm(term);
  const phoneLike = /^\+?[\d\s().\/-]+$/.test(trimmed) && (trimmed.match(/\d/g)?.length ?? 0) >= 3;
  return phoneLike ? trimmed.replace(/[^\d+]/g, '').replace(/(?!^)\+/g, '') : trimmed;
}

/**
 * The LIKE pattern, in SQL, of text containing the term in `parameter` (`$2`, `:term`): folded, then
 * its wildcards escaped so that each matches itself.
 */
export function containing(parameter: string): string {
  const folded = `identity.fold(${parameter})`;
  return `('%' || replace(replace(replace(${folded}, '\\', '\\\\'), '%', '\\%'), '_', '\\_') || '%')`;
}

/**
 * Refuses a search term (as it is looked for) that PostgreSQL's folding leaves with fewer than
 * MIN_SEARCH_LENGTH characters (the contract's count approximates its unaccent rules, which differ
 * between releases): three accents alone fold to nothing, and LIKE '%%' matches everyone.
 */
export async function assertSearchable(manager: EntityManager, term: string): Promise<void> {
  const [{ folded }] = await manager.query<Array<{ folded: string }>>('SELECT identity.fold($1) AS folded', [term]);
  if (searchableLength(folded) < MIN_SEARCH_LENGTH) throw new DomainError(ErrorCode.ValidationFailed, SEARCH_TOO_SHORT, { field: 'search' });
}

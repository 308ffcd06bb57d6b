import { IsName, MAX_NAME_LENGTH } from './text-length.js';

/**
 * Longest sort name the user table keeps, in code points: two names and the space between them.
 * `identity.person_sort_name` cuts the folded `last first` there, since folding may lengthen a name
 * (unaccent writes `㎮` as `rad/s`); names that folding does not lengthen are never cut, and rows
 * whose cut names are equal sort by id. At most twice as many UTF-16 code units: the longest text a
 * user-table cursor holds.
 */
export const MAX_SORT_NAME_LENGTH = 2 * MAX_NAME_LENGTH + 1;

/**
 * A person's first or last name: a name ({@link IsName}) of 1 to {@link MAX_NAME_LENGTH} code
 * points. Every person-name field carries it, on the gateway and on identity's NATS side alike.
 */
export function IsPersonName(): PropertyDecorator {
  return IsName(MAX_NAME_LENGTH);
}

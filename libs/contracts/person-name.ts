import { applyDecorators } from '@nestjs/common';
import { IsString, ValidateBy } from 'class-validator';
import { HasVisibleText } from './visible-text.js';

/**
 * Longest first or last name, in Unicode code points: what the OpenAPI description's `maxLength`
 * counts (JSON Schema counts characters so), and a bound on what is stored whatever the characters
 * (at most 200 UTF-16 code units, 400 UTF-8 bytes). class-validator's `Length` counts otherwise: it
 * leaves out a variation selector (U+FE0E, U+FE0F) after a character, so its 100 may be 300 code units.
 */
export const MAX_NAME_LENGTH = 100;

/**
 * Longest sort name the user table keeps, in code points: two names and the space between them.
 * `identity.person_sort_name` cuts the folded `last first` there, since folding may lengthen a name
 * (unaccent writes `㎮` as `rad/s`); names that folding does not lengthen are never cut, and rows
 * whose cut names are equal sort by id. At most twice as many UTF-16 code units: the longest text a
 * user-table cursor holds.
 */
export const MAX_SORT_NAME_LENGTH = 2 * MAX_NAME_LENGTH + 1;

/** How many Unicode code points `text` holds (a lone surrogate counts as one). */
export function codePoints(text: string): number {
  return [...text].length;
}

/**
 * A person's first or last name: a string of 1 to {@link MAX_NAME_LENGTH} code points that shows
 * something ({@link HasVisibleText}). Every person-name field carries it, on the gateway and on
 * identity's NATS side alike.
 */
export function IsPersonName(): PropertyDecorator {
  return applyDecorators(
    IsString(),
    ValidateBy({
      name: 'personNameLength',
      validator: {
        validate: (value: unknown) => typeof value !== 'string' || (value !== '' && codePoints(value) <= MAX_NAME_LENGTH),
        defaultMessage: (args) => `${args?.property ?? 'name'} must be 1 to ${MAX_NAME_LENGTH} characters`,
      },
    }),
    HasVisibleText(),
  );
}

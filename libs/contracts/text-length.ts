import { applyDecorators } from '@nestjs/common';
import { buildMessage, IsString, ValidateBy, type ValidationOptions } from 'class-validator';
import { HasNoControlCharacters } from './control-characters.js';
import { HasVisibleText } from './visible-text.js';

/**
 * Longest name, in Unicode code points ({@link CodePointLength}): of a person (first or last),
 * an account, a custom role, an application. A bound on what is stored whatever the characters (at
 * most 200 UTF-16 code units, 400 UTF-8 bytes).
 */
export const MAX_NAME_LENGTH = 100;

/**
 * Longest name a row may hold, in code points: one stored before names were counted in code points,
 * when class-validator's `Length` counted a character and the variation selector after it as one
 * (100 such pairs). What a request carrying a stored name back (not a name given) accepts.
 */
export const MAX_STORED_NAME_LENGTH = 2 * MAX_NAME_LENGTH;

/** Longest description (of a custom role, of a subuser), in code points. */
export const MAX_DESCRIPTION_LENGTH = 500;

/** How many Unicode code points `text` holds (a lone surrogate counts as one). */
export function codePoints(text: string): number {
  return [...text].length;
}

/**
 * Refuses, naming the field, text of fewer than `min` or more than `max` Unicode code points. Code
 * points are what the OpenAPI description's `minLength` and `maxLength` count (JSON Schema counts
 * characters so), and what PostgreSQL's `char_length` and `varchar(n)` count in a UTF8 database.
 * class-validator's `Length` and `MaxLength` count otherwise: they leave out a variation selector
 * (U+FE0E, U+FE0F) after a character, so their 100 may be 200 code points (300 UTF-16 code units).
 * Every text field of the contracts is bounded by it (with `each` for a list of texts); a value
 * that is not a string is the type check's to refuse.
 */
export function CodePointLength(min: number, max: number, options?: ValidationOptions): PropertyDecorator {
  const bounds = min > 0 ? `${min} to ${max}` : `at most ${max}`;
  return ValidateBy(
    {
      name: 'codePointLength',
      constraints: [min, max],
      validator: {
        validate: (value: unknown) => typeof value !== 'string' || isWithin(codePoints(value), min, max),
        defaultMessage: buildMessage((each, args) => `${each}${args?.property ?? 'text'} must be ${bounds} characters`, options),
      },
    },
    options,
  );
}

function isWithin(count: number, min: number, max: number): boolean {
  return count >= min && count <= max;
}

/**
 * A name (of a person, an account, a role, an application): a string of 1 to `max` code points
 * ({@link CodePointLength}) that shows something ({@link HasVisibleText}) and holds no control
 * character, bidirectional embedding, override or isolate, nor line or paragraph separator
 * ({@link HasNoControlCharacters}), on the gateway and on the services' NATS side alike.
 */
export function IsName(max: number): PropertyDecorator {
  return applyDecorators(IsString(), CodePointLength(1, max), HasVisibleText(), HasNoControlCharacters('name'));
}

/**
 * A description (of a custom role, of a subuser): a string of at most {@link MAX_DESCRIPTION_LENGTH}
 * code points that may keep tab, line feed and carriage return but no other control character
 * ({@link HasNoControlCharacters}), on the gateway and on the services' NATS side alike. Whether it
 * may be left out or null is the field's own decorator's to say.
 */
export function IsDescription(): PropertyDecorator {
  return applyDecorators(IsString(), CodePointLength(0, MAX_DESCRIPTION_LENGTH), HasNoControlCharacters('description'));
}

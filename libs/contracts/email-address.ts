import { isEmail, ValidateBy, type ValidationOptions } from 'class-validator';
import { hasForbiddenCharacter } from './control-characters.js';

/**
 * One plain address, the shape the notifications service mails to: no display name, no list, no
 * quoted local part, no white space of any script (U+2003, U+3000, U+FEFF...), nothing a header could
 * be bent with. class-validator's `isEmail` alone takes quoted local parts and some of those spaces.
 */
const MAILABLE_SHAPE = /^[^\s@<>()[\]\\,;:"]+@[^\s@<>()[\]\\,;:"]+\.[^\s@<>()[\]\\,;:"]+$/;

/**
 * Invisible format characters that notifications takes out of what a mail shows (zero-width space,
 * word joiner and invisible operators, deprecated format controls, interlinear annotation): an
 * address holding one would be mailed as one address and shown as another, and look like a
 * login it is not. (Direction overrides are refused as in names; the byte order mark is white space.)
 */
const INVISIBLE = /[\u200B\u2060-\u2064\u206A-\u206F\uFFF9-\uFFFB]/;

/** Half of a surrogate pair, alone: no character at all. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** At most this many UTF-16 code units (RFC 5321's limit on a path, counted as SMTP here counts it). */
const MAX_ADDRESS_LENGTH = 254;

/**
 * Whether Portico can mail `value`: an e-mail address (`isEmail`) of the plain shape notifications
 * sends to, at most 254 code units, without control characters or direction overrides. Every e-mail
 * field is judged by it at the API's door, and notifications judges an event's address by it: an
 * address accepted there is one its mail can go to (an account whose owner's address could never
 * be mailed would never be activated).
 */
export function isMailableAddress(value: unknown): value is string {
  return (
    typeof value === 'string' &&
    value.length <= MAX_ADDRESS_LENGTH &&
    !hasForbiddenCharacter(value, 'name') &&
    !INVISIBLE.test(value) &&
    !LONE_SURROGATE.test(value) &&
    MAILABLE_SHAPE.test(value) &&
    isEmail(value)
  );
}

/** Refuses, naming the field, an address {@link isMailableAddress} refuses. */
export function IsMailableEmail(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isMailableEmail',
      validator: {
        validate: (value: unknown) => isMailableAddress(value),
        defaultMessage: (args) => `${args?.property ?? 'email'} must be an e-mail address`,
      },
    },
    options,
  );
}

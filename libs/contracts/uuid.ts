import { applyDecorators } from '@nestjs/common';
import { Transform } from 'class-transformer';
import { IsUUID, ValidateBy, type ValidationOptions } from 'class-validator';

/**
 * The one rule every door applies to an id: a UUID in its 36-character text form, of any version
 * or variant (as PostgreSQL's uuid type takes it), in either case. The gateway's path ids and the
 * services' payloads agree on it, so an id the gateway lets through is never refused by a service
 * with a 400 where the policy is 404.
 */
export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Whether `value` is a UUID by {@link UUID_PATTERN}. */
export function isUuid(value: unknown): value is string {
  return typeof value === 'string' && UUID_PATTERN.test(value);
}

/** A string lower-cased, a list of them each lower-cased; anything else as it is (for the validation to refuse). */
function lowerCased(value: unknown): unknown {
  if (typeof value === 'string') return value.toLowerCase();
  if (Array.isArray(value)) return value.map((item: unknown) => (typeof item === 'string' ? item.toLowerCase() : item));
  return value;
}

/**
 * An id field (with `{ each: true }`, a list of ids): a UUID by {@link UUID_PATTERN}, else
 * "<field> must be a UUID"; lower-cased as it comes in. PostgreSQL ignores the case of a uuid, but
 * the services compare ids as strings (map keys, "is this the owner", "is this yourself"): an id in
 * capitals must name the same principal, account or application as in lower case.
 */
export function IsUuid(options?: ValidationOptions): PropertyDecorator {
  return applyDecorators(
    Transform(({ value }) => lowerCased(value)),
    IsUUID('loose', options),
  );
}

/**
 * A name that must not read as an id: refused, naming the field, when it is a UUID by
 * {@link UUID_PATTERN}. Where a name and an id are both accepted (a role is named by either), a
 * custom role named after another role's id would stand for that other role.
 */
export function IsNotUuid(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isNotUuid',
      validator: {
        validate: (value: unknown) => !isUuid(value),
        defaultMessage: (args) => `${args?.property ?? 'name'} must not be a UUID: ids name roles, and a name that reads as one would name another role`,
      },
    },
    options,
  );
}

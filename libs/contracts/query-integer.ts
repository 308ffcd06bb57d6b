import { Transform } from 'class-transformer';
import { ValidateBy } from 'class-validator';

/** Decimal digits and nothing else: not `0x10`, `1e1`, ` 5`, `5 `, `+5`, `5.0`. */
const DIGITS = /^[0-9]+$/;

/** Decimal digits after an optional minus. */
const SIGNED_DIGITS = /^-?[0-9]+$/;

/**
 * A whole number read from a query string, written in decimal digits only (after a leading minus
 * only when `negative`: where a negative number makes sense), within `min` and `max` when given.
 * `@Type(() => Number)` read `0x10` as 16, `1e1` as 10, ` 5` and `5 ` as 5; such text now stays
 * text and is refused, naming the field. One message for one problem: a field given twice
 * (`?limit=1&limit=2`) is "given once", not also "greater than" and "less than" its bounds. A number
 * passes as is: the same class validates the NATS payload the gateway sends on, where the field is
 * already one. A pure function of the query, as QueryRememberingValidationPipe needs.
 */
export function QueryInteger({ negative = false, min, max }: { negative?: boolean; min?: number; max?: number } = {}): PropertyDecorator {
  const form = negative ? SIGNED_DIGITS : DIGITS;
  const wholeNumber = `must be a whole number written in decimal digits only${negative ? ', after an optional minus' : ''}`;
  const problem = (value: unknown): string | null => {
    if (Array.isArray(value)) return 'must be given once';
    if (typeof value !== 'number' || !Number.isInteger(value)) return wholeNumber;
    if (min !== undefined && value < min) return `must not be less than ${min}`;
    if (max !== undefined && value > max) return `must not be greater than ${max}`;
    return null;
  };
  const transform = Transform(({ value }: { value: unknown }) => (typeof value === 'string' && form.test(value) ? Number(value) : value));
  const validate = ValidateBy({
    name: 'queryInteger',
    validator: { validate: (value: unknown) => problem(value) === null, defaultMessage: (args) => `${args?.property} ${problem(args?.value)}` },
  });
  return (target, property) => {
    transform(target, property);
    validate(target, property);
  };
}

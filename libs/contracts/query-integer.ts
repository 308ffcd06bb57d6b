import { Transform } from 'class-transformer';
import { IsInt } from 'class-validator';

/** Decimal digits and nothing else: not `0x10`, `1e1`, ` 5`, `5 `, `+5`, `5.0`. */
const DIGITS = /^[0-9]+$/;

/** Decimal digits after an optional minus. */
const SIGNED_DIGITS = /^-?[0-9]+$/;

/**
 * A whole number read from a query string, written in decimal digits only (after a leading minus
 * only when `negative`: where a negative number makes sense). `@Type(() => Number)` read `0x10` as
 * 16, `1e1` as 10, ` 5` and `5 ` as 5; such text now stays text and is refused, naming the field.
 * A number passes as is: the same class validates the NATS payload the gateway sends on, where the
 * field is already one. A pure function of the query, as QueryRememberingValidationPipe needs.
 */
export function QueryInteger({ negative = false }: { negative?: boolean } = {}): PropertyDecorator {
  const form = negative ? SIGNED_DIGITS : DIGITS;
  const message = `must be a whole number written in decimal digits only${negative ? ', after an optional minus' : ''}`;
  const transform = Transform(({ value }: { value: unknown }) => (typeof value === 'string' && form.test(value) ? Number(value) : value));
  const isInt = IsInt({ message: ({ property }) => `${property} ${message}` });
  return (target, property) => {
    transform(target, property);
    isInt(target, property);
  };
}

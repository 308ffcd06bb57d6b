import { Transform } from 'class-transformer';
import { ValidateBy } from 'class-validator';

/**
 * A yes or no read from a query string: `true` or `false`, written so and nothing else (not `1`,
 * `yes`, `TRUE`, an empty value), given once; refused otherwise, naming the field. A boolean
 * passes as is: the same class validates the NATS payload the gateway sends on, where the field is
 * already one. A pure function of the query, as QueryRememberingValidationPipe needs.
 */
export function QueryBoolean(): PropertyDecorator {
  const problem = (value: unknown): string | null => {
    if (Array.isArray(value)) return 'must be given once';
    return typeof value === 'boolean' ? null : 'must be true or false';
  };
  const transform = Transform(({ value }: { value: unknown }) => (value === 'true' ? true : value === 'false' ? false : value));
  const validate = ValidateBy({
    name: 'queryBoolean',
    validator: { validate: (value: unknown) => problem(value) === null, defaultMessage: (args) => `${args?.property} ${problem(args?.value)}` },
  });
  return (target, property) => {
    transform(target, property);
    validate(target, property);
  };
}

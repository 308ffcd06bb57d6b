import { ValidateIf } from 'class-validator';

/**
 * A field that may be left out, but when sent must pass its rules, null included. `@IsOptional()`
 * lets null through as if the field were absent, and a handler then writes null to a NOT NULL
 * column (a 500) or takes it for "no change" (a silent 2xx). Fields where null means something
 * (`description: null` clears it) keep `@IsOptional()`.
 */
export function Omittable(): PropertyDecorator {
  return ValidateIf((_object, value) => value !== undefined);
}

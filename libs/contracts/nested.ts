import { applyDecorators } from '@nestjs/common';
import { Type } from 'class-transformer';
import { IsObject, ValidateNested } from 'class-validator';

/**
 * A field holding an object of class `type` (or, with `each`, a list of them), validated as that
 * class. An array where the object belongs is refused: `@ValidateNested` alone would accept it.
 */
export function Nested(type: () => new (...args: never[]) => object, options: { each?: boolean } = {}): PropertyDecorator {
  return applyDecorators(IsObject({ each: options.each }), ValidateNested({ each: options.each }), Type(type));
}

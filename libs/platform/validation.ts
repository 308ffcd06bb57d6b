import { ValidationPipe, type ValidationError } from '@nestjs/common';
import { ErrorCode, DomainError } from '#libs/errors/index.js';

/** One readable line per broken field: `owner.phone must be in international format`. */
export function describeValidationErrors(errors: ValidationError[], parent = ''): string[] {
  return errors.flatMap((error) => {
    const path = parent ? `${parent}.${error.property}` : error.property;
    const own = Object.values(error.constraints ?? {}).map((message) => renameField(message, error.property, path));
    return [...own, ...describeValidationErrors(error.children ?? [], path)];
  });
}

function renameField(message: string, property: string, path: string): string {
  if (message.startsWith('property ')) return message.replace(`property ${property}`, `field ${path}`);
  return message.startsWith(property) ? path + message.slice(property.length) : `${path}: ${message}`;
}

/** Validates every body and payload against its class: unknown fields and wrong types are refused, naming the field. */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    forbidUnknownValues: true,
    validationError: { target: false, value: false },
    exceptionFactory: (errors) => {
      const problems = describeValidationErrors(errors);
      return new DomainError(ErrorCode.ValidationFailed, problems.join('; ') || 'Invalid input', { problems });
    },
  });
}

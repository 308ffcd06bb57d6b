import { applyDecorators } from '@nestjs/common';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsOptional, IsString, ValidateIf } from 'class-validator';
import { CodePointLength, MAX_NAME_LENGTH } from './text-length.js';
import { IsUuid } from './uuid.js';

/**
 * The `roles` of a body that gives a subuser or a service account its roles: 1 to 20 role names
 * (or ids) of the account's catalogue. Whether it may be left out is the field's own decorator's to say.
 */
export function HeldRoles(): PropertyDecorator {
  return applyDecorators(
    IsArray(),
    ArrayMinSize(1, { message: 'roles must name at least one role' }),
    ArrayMaxSize(20),
    IsString({ each: true }),
    CodePointLength(1, MAX_NAME_LENGTH, { each: true }),
  );
}

/** The `applicationIds` the roles of a body are limited to: up to 1,000 application ids. Whether it may be left out is the field's own decorator's to say. */
export function LimitedToApplications(): PropertyDecorator {
  return applyDecorators(IsArray(), ArrayMaxSize(1000), IsUuid({ each: true }));
}

/** The `applicationIds` of an edit: left out (kept as held), null (every application), or {@link LimitedToApplications}. */
export function EditedApplications(): PropertyDecorator {
  return applyDecorators(
    IsOptional(),
    ValidateIf((_body, value) => value !== null),
    LimitedToApplications(),
  );
}

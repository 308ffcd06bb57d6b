import { applyDecorators } from '@nestjs/common';
import { Transform } from 'class-transformer';
import { IsOptional, ValidateBy } from 'class-validator';
import { ApiPropertyOptional } from './api-docs.js';
import { UUID_PATTERN } from './uuid.js';

/** Most roles one `role` filter names ("any of these"). */
export const MAX_FILTER_ROLES = 10;
/** The longest role id access takes (`builtin:` and a catalogue name): a longer one names no role. */
export const MAX_ROLE_ID_LENGTH = 120;
/** A built-in role's id: `builtin:<Name>`, the catalogue's name as written (no comma: commas separate the ids of a filter; no control character). */
const BUILTIN_ROLE_ID = /^builtin:[^,\u0000-\u001f\u007f]+$/;

/** Whether `value` reads as a role id: a custom role's UUID, or a built-in role's `builtin:<Name>` up to {@link MAX_ROLE_ID_LENGTH}. */
export function isRoleId(value: unknown): value is string {
  return typeof value === 'string' && (UUID_PATTERN.test(value) || (BUILTIN_ROLE_ID.test(value) && value.length <= MAX_ROLE_ID_LENGTH));
}

/** The ids a `role` filter names: given again (`?role=a&role=b`) or comma-separated, or both; UUIDs lower-cased. A list already read passes as is. */
function roleIdsOf(value: unknown): unknown {
  if (typeof value !== 'string' && !Array.isArray(value)) return value;
  const given: unknown[] = Array.isArray(value) ? value : [value];
  return given
    .flatMap((part) => (typeof part === 'string' ? part.split(',') : [part]))
    .map((id) => (typeof id === 'string' && UUID_PATTERN.test(id) ? id.toLowerCase() : id));
}

/** Why a `role` filter (as {@link roleIdsOf} reads it) is refused, or null. */
function roleFilterProblem(value: unknown): string | null {
  if (!Array.isArray(value) || value.length === 0) return 'must name at least one role by id';
  if (value.length > MAX_FILTER_ROLES) return `names at most ${MAX_FILTER_ROLES} roles`;
  const wrong = (value as unknown[]).findIndex((id) => !isRoleId(id));
  if (wrong >= 0) return `must name roles by id (a custom role's UUID, or builtin:<Name>): ${JSON.stringify(String(value[wrong])).slice(0, 140)} is not one`;
  return null;
}

/**
 * An optional `role` filter of a list of people or subusers: those holding any of the roles named
 * (by id: a custom role's UUID or `builtin:<Name>`), given again or comma-separated, at most
 * {@link MAX_FILTER_ROLES}. Anything that is not a role id is refused, naming the field and the
 * id. A pure function of the query, as QueryRememberingValidationPipe needs.
 */
export function RoleFilter(who: string): PropertyDecorator {
  return applyDecorators(
    ApiPropertyOptional({
      type: [String],
      maxItems: MAX_FILTER_ROLES,
      description: `Only ${who} holding any of these roles (ids: a custom role's UUID or builtin:<Name>; repeat the parameter or separate them with commas). The account owner holds no role. A role just bound or unbound shows here within a moment`,
    }),
    IsOptional(),
    Transform(({ value }: { value: unknown }) => roleIdsOf(value)),
    ValidateBy({
      name: 'roleFilter',
      validator: {
        validate: (value: unknown) => roleFilterProblem(value) === null,
        defaultMessage: (args) => `${args?.property} ${roleFilterProblem(args?.value)}`,
      },
    }),
  );
}

import { Injectable, type PipeTransform } from '@nestjs/common';
import { MAX_ROLE_ID_LENGTH, UUID_PATTERN } from '#libs/contracts/index.js';
import { DomainError, ErrorCode } from '#libs/errors/index.js';

/**
 * A path id that is not a UUID (by the rule the services apply too) names nothing: 404, like an id
 * of another account (no 400 that would tell them apart). Lower-cased: ids are compared as strings.
 */
@Injectable()
export class IdParam implements PipeTransform<string, string> {
  constructor(private readonly what = 'Resource') {}

  transform(value: string): string {
    if (!UUID_PATTERN.test(value)) throw new DomainError(ErrorCode.NotFound, `${this.what} not found`);
    return value.toLowerCase();
  }
}

/** How a built-in role's id starts (`builtin:<Name>`, the catalogue's name as written). */
const BUILTIN_ROLE_ID = /^builtin:./;

/**
 * A role id in a path: a custom role's UUID (lower-cased, as {@link IdParam}) or a built-in role's
 * `builtin:<Name>` as written, up to the length access takes; anything else, a role's name too,
 * names nothing: 404.
 */
@Injectable()
export class RoleIdParam implements PipeTransform<string, string> {
  transform(value: string): string {
    if (BUILTIN_ROLE_ID.test(value) && value.length <= MAX_ROLE_ID_LENGTH) return value;
    return new IdParam('Role').transform(value);
  }
}

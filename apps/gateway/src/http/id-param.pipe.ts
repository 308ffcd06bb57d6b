import { Injectable, type PipeTransform } from '@nestjs/common';
import { UUID_PATTERN } from '#libs/contracts/index.js';
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

import { Injectable, type PipeTransform } from '@nestjs/common';
import { DomainError, ErrorCode } from '#libs/errors/index.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A path id that is not a UUID names nothing: 404, like an id of another account (no 400 that would tell them apart). */
@Injectable()
export class IdParam implements PipeTransform<string, string> {
  constructor(private readonly what = 'Resource') {}

  transform(value: string): string {
    if (!UUID.test(value)) throw new DomainError(ErrorCode.NotFound, `${this.what} not found`);
    return value.toLowerCase();
  }
}

import { ApiPropertyOptional } from './api-docs.js';
import { IsDefined, IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { Nested } from './nested.js';
import { QueryInteger } from './query-integer.js';
import { Actor } from './actor.js';
import { ClientContext } from './shared.dto.js';
import { IsUuid } from './uuid.js';

/** Largest page any list answers. */
export const MAX_PAGE_SIZE = 100;
/** Page size when `limit` is not given. */
export const DEFAULT_PAGE_SIZE = 50;
/**
 * Longest cursor: base64url of the sort and the last row's key, whose text part may be long (two
 * names of 100 emoji are 800 bytes of UTF-8, some 1.1k characters once encoded).
 */
export const MAX_CURSOR_LENGTH = 4096;

/**
 * A request an actor makes inside one account, as the gateway forwards it to a service: the
 * verified actor, the account from the route, and where the request came from (for audit and
 * throttling). Services scope every query by `accountId` and never trust it beyond the actor.
 */
export class AccountRequest {
  @IsDefined()
  @Nested(() => Actor)
  actor: Actor;

  @IsUuid()
  accountId: string;

  @IsDefined()
  @Nested(() => ClientContext)
  client: ClientContext;
}

/**
 * `?limit=&cursor=` of every list. The gateway validates each distinct query string of a query
 * class once and remembers the result (QueryRememberingValidationPipe in libs/platform): the
 * validation of this class and of every query class must stay a pure function of the query.
 */
export class PageQuery {
  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: MAX_PAGE_SIZE, default: DEFAULT_PAGE_SIZE })
  @IsOptional()
  @QueryInteger({ min: 1, max: MAX_PAGE_SIZE })
  limit?: number;

  @ApiPropertyOptional({ description: 'The nextCursor of the previous page (opaque)' })
  @IsOptional()
  @IsString()
  @MaxLength(MAX_CURSOR_LENGTH)
  @Matches(/^[A-Za-z0-9_-]+$/, { message: 'cursor is not one this API gave' })
  cursor?: string;
}

/** One page of a list: the items and the cursor of the next page (null on the last one). */
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** A request without a signed-in caller (sign-in, reset), sent on with where it came from. */
export class ClientRequest {
  @IsDefined()
  @Nested(() => ClientContext)
  client: ClientContext;
}

/** A request a signed-in caller makes about themselves. */
export class ActorClientRequest extends ClientRequest {
  @IsDefined()
  @Nested(() => Actor)
  actor: Actor;
}

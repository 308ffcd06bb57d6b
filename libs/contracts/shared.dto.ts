import { IsString, MaxLength } from 'class-validator';

/** Where a request came from; recorded in audit events and used for throttling. */
export class ClientContext {
  /** The client address as the gateway saw it. */
  @IsString()
  @MaxLength(100)
  ip: string;
}

/** A request that names only an account, made by an actor. */
export const ACCOUNT_ID_FIELD = 'accountId';

import { IsOptional, IsString, MaxLength } from 'class-validator';

/** Longest User-Agent a service takes: the gateway cuts a longer header there (a browser's is some 150 characters). */
export const MAX_USER_AGENT_LENGTH = 512;

/** Where a request came from; recorded in audit events and used for throttling. */
export class ClientContext {
  /** The client address as the gateway saw it. */
  @IsString()
  @MaxLength(100)
  ip: string;

  /**
   * The User-Agent header of a request that signs in or renews a session (cut to
   * {@link MAX_USER_AGENT_LENGTH}), for the list of one's sessions and the sign-in's audit event;
   * absent on other requests and when the client sent none.
   */
  @IsOptional()
  @IsString()
  @MaxLength(MAX_USER_AGENT_LENGTH)
  userAgent?: string;
}

/** A request that names only an account, made by an actor. */
export const ACCOUNT_ID_FIELD = 'accountId';

import { IsString, MaxLength } from 'class-validator';

/**
 * Longest User-Agent kept of a request that signs in or renews a session (a browser's is some 150
 * characters): the gateway cuts a longer one there, and sends it in the request's
 * `x-user-agent` NATS header (see request-context.ts in libs/platform), not in the payload, which
 * an identity pod of the previous release would refuse with a field it does not know.
 */
export const MAX_USER_AGENT_LENGTH = 512;

/** Where a request came from; recorded in audit events and used for throttling. */
export class ClientContext {
  /** The client address as the gateway saw it. */
  @IsString()
  @MaxLength(100)
  ip: string;
}

/** A request that names only an account, made by an actor. */
export const ACCOUNT_ID_FIELD = 'accountId';

import { JetStreamApiError } from '@nats-io/jetstream';
import { errors } from '@nats-io/transport-node';

/**
 * Why publishing one outbox row failed, as the relay handles it:
 * - `transient`: NATS or the stream is away or busy (disconnected, closed, a timeout, no
 *   responders, JetStream not enabled or unavailable, the stream missing, out of storage). Nothing
 *   is wrong with the row: it keeps its place and is tried again, for ever.
 * - `refused`: the row itself can never be stored (larger than the stream's `max_msg_size` or the
 *   server's `max_payload`, a subject NATS does not accept). It is set aside at once.
 * - `unexplained`: any other refusal. It is counted, and the row set aside after
 *   {@link OUTBOX_MAX_ATTEMPTS} of them (see `OutboxRelay`).
 * A `transient` failure that says no stream takes the row's subject is counted as `unexplained` in
 * a pass where the stream stored other rows ({@link noStreamTakesSubject}).
 */
export type PublishFailure = 'transient' | 'refused' | 'unexplained';

/** A row failing this many times for an unexplained reason, while the stream stores other rows, is set aside. */
export const OUTBOX_MAX_ATTEMPTS = 10;

/** JetStream's "message size exceeds maximum allowed" (the stream's `max_msg_size`). */
const MESSAGE_TOO_LARGE = 10054;
/** JetStream's "resource limits exceeded for account": the account's storage is full, for every row. */
const ACCOUNT_RESOURCES_EXCEEDED = 10002;
/** JetStream's "stream not found": the relay makes it again. */
const STREAM_NOT_FOUND = 10059;

/** Errors of the connection or of the server's state, never of one row. */
const TRANSIENT_ERRORS = [errors.TimeoutError, errors.ClosedConnectionError, errors.DrainingConnectionError, errors.ConnectionError, errors.NoRespondersError];

/** How the relay treats a failed publish (see {@link PublishFailure}). */
export function classifyPublishFailure(error: unknown): PublishFailure {
  // A request's failure carries what failed it (no responders, a permission violation), or nothing when the connection went.
  if (error instanceof errors.RequestError) return error.cause === undefined ? 'transient' : classifyPublishFailure(error.cause);
  if (error instanceof errors.InvalidArgumentError || error instanceof errors.InvalidSubjectError) return 'refused';
  if (error instanceof JetStreamApiError) {
    if (error.code === MESSAGE_TOO_LARGE) return 'refused';
    const ofTheServer = error.status >= 500 || error.code === ACCOUNT_RESOURCES_EXCEEDED || error.code === STREAM_NOT_FOUND;
    return ofTheServer ? 'transient' : 'unexplained';
  }
  // JetStreamNotEnabled (no responders on a publish, or the account without JetStream) is not exported as a class.
  if (error instanceof Error && error.name === 'JetStreamNotEnabled') return 'transient';
  return TRANSIENT_ERRORS.some((kind) => error instanceof kind) ? 'transient' : 'unexplained';
}

/**
 * Whether the publish found no stream to take its subject (no responders; JetStream reports it as
 * not enabled). Transient in itself: the stream or JetStream may be away. But when the same stream
 * stores other rows of the same pass, it is the row's own: the stream does not capture its subject
 * (its subjects narrowed by hand, say), and never will until an operator widens them.
 */
export function noStreamTakesSubject(error: unknown): boolean {
  if (error instanceof errors.RequestError && error.cause !== undefined) return noStreamTakesSubject(error.cause);
  return error instanceof errors.NoRespondersError || (error instanceof Error && error.name === 'JetStreamNotEnabled');
}

/** The failure as recorded on the row (`last_error`): its kind, JetStream's code if any, and its message. */
export function describePublishFailure(error: unknown): string {
  // nats.js names it "JetStreamNotEnabled: jetstream is not enabled", which misleads when JetStream stores the other events.
  if (noStreamTakesSubject(error)) return `NoResponders: no stream took the event's subject (is it among the events stream's subjects?)`;
  if (error instanceof JetStreamApiError) return `${error.name} ${error.code}: ${error.message}`.slice(0, 1000);
  if (error instanceof Error) return `${error.name}: ${error.message}`.slice(0, 1000);
  return String(error).slice(0, 1000);
}

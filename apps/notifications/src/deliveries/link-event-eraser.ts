import { jetstreamManager, JetStreamApiError } from '@nats-io/jetstream';
import type { Logger } from 'pino';
import { EVENTS_STREAM, type EventEnvelope } from '#libs/contracts/index.js';
import type { NatsLink } from '#libs/platform/index.js';

/**
 * Where identity's events carry a plain link token: `token` (activation, invitation, reset,
 * e-mail change) and `undoToken` (the undo link of `identity.email.changed`).
 */
const LINK_TOKEN_FIELDS = ['token', 'undoToken'] as const;

/** JetStream's error codes for a delete of a message that is not there: `sequence <n> not found`, or a failed delete saying `no message found`. */
const SEQUENCE_NOT_FOUND = 10043;
const MSG_DELETE_FAILED = 10057;

/** Whether an event carries a plain link token (one of {@link LINK_TOKEN_FIELDS} is a string): only those are deleted from the stream. */
export function carriesLinkToken(event: EventEnvelope): boolean {
  const data = (event.data ?? {}) as Partial<Record<(typeof LINK_TOKEN_FIELDS)[number], unknown>>;
  return LINK_TOKEN_FIELDS.some((field) => typeof data[field] === 'string');
}

/**
 * Deletes from the events stream the events that carry a plain link token, once notifications is
 * done with them (acknowledged): identity keeps only the token's hash, and the stream would
 * otherwise keep the plain token for its whole `max_age` (7 days), readable by whoever may read
 * the stream. Only notifications reads these events. Any other event stays (another consumer may
 * still need it). A delete that fails is only logged: the event is acknowledged already, and it
 * expires with the stream's `max_age` anyway.
 */
export class LinkEventEraser {
  constructor(
    private readonly link: NatsLink,
    private readonly logger: Logger,
  ) {}

  /**
   * Deletes the message at `seq` in the events stream if `event` (its content) carries a link
   * token. Never throws. It is not overwritten on disk (`no_erase`): gone for every reader of the
   * stream at once, its bytes stay in the server's store until JetStream compacts or drops their
   * block (at the latest when the stream's `max_age` expires it); erasing would rewrite them at once.
   */
  async eraseIfCarryingToken(seq: number, event: EventEnvelope): Promise<void> {
    if (!carriesLinkToken(event)) return;
    try {
      const manager = await jetstreamManager(this.link.connection, { checkAPI: false });
      await manager.streams.deleteMessage(EVENTS_STREAM, seq, false);
    } catch (error) {
      this.reportFailure(error, seq, event);
    }
  }

  /** A message already gone (another replica deleted it, after a redelivery) is expected; anything else is a warning. */
  private reportFailure(error: unknown, seq: number, event: EventEnvelope): void {
    const context = { err: error, seq, eventId: event.id, type: event.type };
    if (alreadyGone(error)) this.logger.debug(context, 'Link event already gone from the events stream');
    else this.logger.warn(context, 'Could not delete a link event from the events stream; it stays until the stream expires it (7 days)');
  }
}

/** Whether JetStream refused the delete because the message is not there (any more). */
function alreadyGone(error: unknown): boolean {
  if (!(error instanceof JetStreamApiError)) return false;
  return error.code === SEQUENCE_NOT_FOUND || (error.code === MSG_DELETE_FAILED && /no message found/i.test(error.message));
}

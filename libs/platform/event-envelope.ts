import type { JsMsg } from '@nats-io/jetstream';
import type { EventEnvelope } from '#libs/contracts/index.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The event in a message, if it is one: an object with a UUID `id`, a `type`, an `accountId` that
 * is a UUID or null, and a `data` object. Null for anything else (not JSON, `null`, an array, a
 * field missing or of the wrong kind), which no consumer could ever handle.
 */
export function readEvent(message: Pick<JsMsg, 'json'>): EventEnvelope | null {
  let event: Partial<EventEnvelope> | null;
  try {
    event = message.json<Partial<EventEnvelope> | null>();
  } catch {
    return null;
  }
  const valid =
    isObject(event) &&
    typeof event.id === 'string' &&
    UUID.test(event.id) &&
    typeof event.type === 'string' &&
    (event.accountId === null || (typeof event.accountId === 'string' && UUID.test(event.accountId))) &&
    isObject(event.data);
  return valid ? (event as EventEnvelope) : null;
}

/** A plain object (not null, not an array). */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Name of the JetStream stream that carries every durable event. */
export const EVENTS_STREAM = 'PORTICO_EVENTS';
/** Prefix of every durable event subject in {@link EVENTS_STREAM}. */
export const EVENTS_SUBJECT_PREFIX = 'events.';

/** The subject filter that matches every event identity publishes. */
export const IDENTITY_EVENTS = `${EVENTS_SUBJECT_PREFIX}identity.>`;

/** Durable events, published from an outbox, consumed by durable consumers. */
export const Events = {
  /** An account and its owner were created. */
  AccountCreated: 'identity.account.created',
  /** A new person was invited and must set a password (activation mail). */
  UserInvited: 'identity.user.invited',
} as const;

/** One of the {@link Events}. */
export type EventType = (typeof Events)[keyof typeof Events];

/** `identity.account.created`. */
export interface AccountCreatedData {
  accountId: string;
  slug: string;
  ownerUserId: string;
}

/** `identity.user.invited`: everything the activation mail needs. The token is plain here only. */
export interface UserInvitedData {
  accountId: string;
  accountName: string;
  userId: string;
  email: string;
  firstName: string;
  /** The plain activation token (stored hashed by identity; this event is its only other copy). */
  token: string;
  expiresAt: string;
  locale: string;
}

/** The payload type of each event. */
export interface EventDataMap {
  [Events.AccountCreated]: AccountCreatedData;
  [Events.UserInvited]: UserInvitedData;
}

/** The envelope every durable event travels in. `id` is the outbox id and the JetStream message id. */
export interface EventEnvelope<T extends EventType = EventType> {
  id: string;
  type: T;
  occurredAt: string;
  accountId: string | null;
  data: EventDataMap[T];
}

/** The JetStream subject an event type is published on. */
export function eventSubject(type: EventType): string {
  return EVENTS_SUBJECT_PREFIX + type;
}

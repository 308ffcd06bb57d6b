import { createHash } from 'node:crypto';

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
  /** A person who already has a login was added to another account ("added to account" mail). */
  UserAddedToAccount: 'identity.user.added-to-account',
  /** A subuser was created without a password and must set one (activation mail to its e-mail). */
  SubuserInvited: 'identity.subuser.invited',
  /** A reset link was issued, by the person or by an admin (reset mail). */
  PasswordResetRequested: 'identity.password-reset.requested',
  /** A password was changed or reset (notice to the owner of the e-mail). */
  PasswordChanged: 'identity.password.changed',
  /** Mailed links were voided unused (a newer link, a revoked invitation, a removed person): a mail still waiting to carry one is not sent. */
  LinksVoided: 'identity.links.voided',
  /** The owner of an account handed it to another member (access moves the owner's rights). */
  OwnershipTransferred: 'identity.account.ownership-transferred',
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

/** `identity.user.added-to-account`. */
export interface UserAddedToAccountData {
  accountId: string;
  accountName: string;
  userId: string;
  email: string;
  firstName: string;
  locale: string;
}

/** `identity.subuser.invited`: the subuser sets its password through the account's own login page. */
export interface SubuserInvitedData {
  accountId: string;
  accountName: string;
  accountSlug: string;
  subuserId: string;
  login: string;
  email: string;
  /** The plain activation token (stored hashed by identity). */
  token: string;
  expiresAt: string;
  locale: string;
}

/** `identity.password-reset.requested`. */
export interface PasswordResetRequestedData {
  /** Set for subusers (their reset page lives under the account's slug) and for admin-triggered resets. */
  accountId: string | null;
  accountSlug: string | null;
  principalType: 'user' | 'subuser';
  principalId: string;
  email: string;
  /** First name of a user, login of a subuser. */
  name: string;
  /** The plain reset token (stored hashed by identity). */
  token: string;
  expiresAt: string;
  locale: string;
  requestedBy: 'self' | 'admin';
}

/** `identity.password.changed`. */
export interface PasswordChangedData {
  accountId: string | null;
  principalType: 'user' | 'subuser';
  principalId: string;
  email: string;
  name: string;
  changedAt: string;
  locale: string;
}

/**
 * `identity.links.voided`: activation or reset links that no longer work, each named by
 * {@link linkTokenHash} of its token. Published in the transaction that voids them (not ordered
 * against the event of a link that replaces them, which it never names).
 */
export interface LinksVoidedData {
  tokenHashes: string[];
}

/**
 * `identity.account.ownership-transferred`: `toUserId` now owns the account; `fromUserId`, the
 * owner before, holds `previousOwnerRole` (a role id of the account's catalogue or custom roles).
 */
export interface OwnershipTransferredData {
  accountId: string;
  fromUserId: string;
  toUserId: string;
  previousOwnerRole: string;
  /** The account's count of hand-overs, this one included: access applies a hand-over only over an older one. */
  ownerVersion: number;
}

/** How a link's token is named outside the mail that carries it: SHA-256 of the plain token, hex (the form identity stores it in). */
export function linkTokenHash(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** The payload type of each event. */
export interface EventDataMap {
  [Events.AccountCreated]: AccountCreatedData;
  [Events.UserInvited]: UserInvitedData;
  [Events.UserAddedToAccount]: UserAddedToAccountData;
  [Events.SubuserInvited]: SubuserInvitedData;
  [Events.PasswordResetRequested]: PasswordResetRequestedData;
  [Events.PasswordChanged]: PasswordChangedData;
  [Events.LinksVoided]: LinksVoidedData;
  [Events.OwnershipTransferred]: OwnershipTransferredData;
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

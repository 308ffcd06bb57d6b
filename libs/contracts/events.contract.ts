import { createHash } from 'node:crypto';
import type { Principal, PrincipalType } from './actor.js';

/** Name of the JetStream stream that carries every durable event. */
export const EVENTS_STREAM = 'PORTICO_EVENTS';

/**
 * The durable consumers of the events stream. Their names are part of the NATS contract: the
 * operators' NATS permissions name them (tools/nats/permissions.ts), and a name kept keeps the
 * consumer's position in the stream.
 */
export const DurableConsumers = {
  /** Notifications: identity's events, to mail (the name is the foundation's). */
  Mail: 'notifications',
  /** Access: account owners, from identity's events. */
  Owners: 'access',
  /** Access: whether principals are active, from identity's events. */
  Principals: 'access-principals',
  /** Identity: access's changes of roles and applications, for the audit trail. */
  AccessAudit: 'identity-audit',
} as const;
/** Prefix of every durable event subject in {@link EVENTS_STREAM}. */
export const EVENTS_SUBJECT_PREFIX = 'events.';

/** The subject filter that matches every event identity publishes. */
export const IDENTITY_EVENTS = `${EVENTS_SUBJECT_PREFIX}identity.>`;

/**
 * The subject filter of identity's account events only (`identity.account.created`,
 * `identity.account.ownership-transferred`, `identity.account.closed`): what access reads to learn owners. Not
 * {@link IDENTITY_EVENTS}: the mail events carry plain link tokens (activation, reset, e-mail
 * change), which only notifications needs; the NATS permissions generated from this filter keep
 * access from reading them.
 */
export const ACCOUNT_EVENTS = `${EVENTS_SUBJECT_PREFIX}identity.account.>`;

/** The subject filter that matches every event access publishes (identity's audit consumes them; access's and notifications' consumers never see them). */
export const ACCESS_EVENTS = `${EVENTS_SUBJECT_PREFIX}access.>`;

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
  /** A login's second step (authenticator app) was turned on or off, or its recovery codes renewed (notice to its e-mail). */
  SecondStepChanged: 'identity.second-step.changed',
  /** A login's second step was blocked after too many wrong codes within 30 days at sign-in (notice to its e-mail). */
  SecondStepBlocked: 'identity.second-step.blocked',
  /** Someone signed in to a login with a recovery code instead of its authenticator's code (notice to its e-mail). */
  RecoveryCodeUsed: 'identity.second-step.recovery-code-used',
  /** A person asked to move their login to another e-mail (a confirmation link to that address, or word that it already has a login). */
  EmailChangeRequested: 'identity.email-change.requested',
  /** A person's login moved to another e-mail (notice to the address it left). */
  EmailChanged: 'identity.email.changed',
  /** An admin gave a subuser another e-mail, or took it away (notice to the address it had). */
  SubuserEmailChanged: 'identity.subuser.email-changed',
  /** Mailed links were voided unused (a newer link, a revoked invitation, a removed person): a mail still waiting to carry one is not sent. */
  LinksVoided: 'identity.links.voided',
  /**
   * An account went before anyone could act in it: the person open sign-up named its owner, whom
   * Portico knew already (a login, or a person another account invited), declined it (access drops
   * whatever it holds of the account).
   */
  AccountClosed: 'identity.account.closed',
  /** The owner of an account handed it to another member (access moves the owner's rights). */
  OwnershipTransferred: 'identity.account.ownership-transferred',
  /** A member or subuser was deactivated or reactivated in an account (access refuses an inactive principal everything there). */
  PrincipalActivityChanged: 'identity.principal.activity-changed',
  /** A custom role was created (identity records it in the account's audit trail). */
  RoleCreated: 'access.role.created',
  /** A custom role was renamed, described or regranted: a new grant reaches every holder at once (audited). */
  RoleUpdated: 'access.role.updated',
  /** A custom role nobody held was deleted (audited). */
  RoleDeleted: 'access.role.deleted',
  /** An application was created (audited). */
  ApplicationCreated: 'access.application.created',
  /** An application was renamed (audited). */
  ApplicationRenamed: 'access.application.renamed',
  /** An application was deleted, and the bindings limited to it lost it (audited). */
  ApplicationDeleted: 'access.application.deleted',
  /** A principal's roles or their applications were set to others, by an admin or in giving back what a failed removal took (audited). */
  BindingsReplaced: 'access.bindings.replaced',
} as const;

/** One of the {@link Events}. */
export type EventType = (typeof Events)[keyof typeof Events];

/** `identity.account.created`. */
export interface AccountCreatedData {
  accountId: string;
  slug: string;
  ownerUserId: string;
}

/** `identity.account.closed`. */
export interface AccountClosedData {
  accountId: string;
  slug: string;
  /** Why: the only one so far, the owner named by open sign-up declined the account. */
  reason: 'owner-declined';
}

/**
 * `identity.user.invited`: everything the invitation mail needs. The token is plain here only. A
 * person without a login sets their password with it (`/activate`); someone who has one
 * (`hasLogin`) accepts the invitation with it (`/accept-invitation`).
 */
export interface UserInvitedData {
  accountId: string;
  accountName: string;
  userId: string;
  email: string;
  firstName: string;
  /** The plain activation or invitation token (stored hashed by identity; this event is its only other copy). */
  token: string;
  expiresAt: string;
  locale: string;
  /** The person already has a login: the token accepts the invitation (absent: false). */
  hasLogin?: boolean;
}

/** `identity.user.added-to-account`: someone who already has a login works in an account made for them. */
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

/** What can happen to a login's second step. */
export const SECOND_STEP_CHANGES = ['enabled', 'disabled', 'recovery-codes-renewed', 'reset-by-admin', 'reset-by-operator'] as const;
/** One of {@link SECOND_STEP_CHANGES}. */
export type SecondStepChange = (typeof SECOND_STEP_CHANGES)[number];

/**
 * `identity.second-step.changed`: a security notice to the login's e-mail (only raised when it has
 * one). `accountId` is the subuser's account (null for a person).
 */
export interface SecondStepChangedData {
  accountId: string | null;
  principalType: 'user' | 'subuser';
  principalId: string;
  email: string;
  name: string;
  change: SecondStepChange;
  changedAt: string;
  locale: string;
}

/**
 * `identity.second-step.blocked`: a security notice to the login's e-mail (only raised when it has
 * one), once per block: `wrongCodes` wrong codes within 30 days had been typed at the second step of its
 * sign-in (MFA_BLOCK_AFTER_WRONG_CODES), and no sign-in gets past it until its password is reset or
 * changed, or its second step reset. `accountId` is the subuser's account (null for a person).
 */
export interface SecondStepBlockedData {
  accountId: string | null;
  principalType: 'user' | 'subuser';
  principalId: string;
  email: string;
  name: string;
  wrongCodes: number;
  blockedAt: string;
  locale: string;
}

/**
 * `identity.second-step.recovery-code-used`: a security notice to the login's e-mail (only raised
 * when it has one): a sign-in passed its second step with a recovery code (printed, or kept in a
 * password manager, such a code is easier to steal than a phone). When (`usedAt`), from which
 * client address (`ip`), on what (`device`: a few words read from its User-Agent, such as "Firefox
 * 133 on Linux"; null when it named nothing known, never the raw header, which whoever signs in
 * writes), and how many unused codes the login has left (`codesLeft`). `accountId` is the
 * subuser's account (null for a person).
 */
export interface RecoveryCodeUsedData {
  accountId: string | null;
  principalType: 'user' | 'subuser';
  principalId: string;
  email: string;
  name: string;
  usedAt: string;
  ip: string;
  device: string | null;
  codesLeft: number;
  locale: string;
}

/**
 * `identity.email-change.requested`: the mail goes to `newEmail`. With a `token`, it is the link that
 * moves the login there; without one (`inUse`), that address already has a login of its own, and the
 * mail says so: nothing changes, and the person who asked is told no more than anyone else.
 */
export interface EmailChangeRequestedData {
  userId: string;
  /** The login e-mail now. */
  email: string;
  newEmail: string;
  /** The person's first name. */
  name: string;
  /** True when `newEmail` already signs in to another login: no token then. */
  inUse: boolean;
  /** The plain confirmation token (stored hashed by identity); absent when `inUse`. */
  token?: string;
  expiresAt?: string;
  locale: string;
}

/**
 * `identity.email.changed`: the notice goes to `previousEmail`, the address the login left, with
 * the link that moves it back (`undoToken`; not named `token`, so that no voiding of links ever
 * holds this security notice back).
 */
export interface EmailChangedData {
  userId: string;
  previousEmail: string;
  email: string;
  name: string;
  changedAt: string;
  locale: string;
  /** The plain undo token (stored hashed by identity). */
  undoToken?: string;
  undoExpiresAt?: string;
}

/** `identity.subuser.email-changed`: the notice goes to `previousEmail`, the subuser's address until then. */
export interface SubuserEmailChangedData {
  accountId: string;
  accountName: string;
  subuserId: string;
  login: string;
  previousEmail: string;
  /** The new address; null when the admin took the e-mail away. */
  email: string | null;
  changedAt: string;
  locale: string;
}

/**
 * `identity.links.voided`: activation, reset or e-mail change links that no longer work, each named by
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
  /**
   * The account's name, for the mails to both people. This field and the three below came with
   * those mails: an event written before lacks them, and makes no mail.
   */
  accountName?: string;
  /** The name of `previousOwnerRole` as the account's role list showed it at the hand-over. */
  previousOwnerRoleName?: string;
  /** The new owner (`toUserId`), as their mail addresses them. */
  newOwner?: MailContact;
  /** The previous owner (`fromUserId`), as their mail addresses them. */
  previousOwner?: MailContact;
}

/** A person as a mail about them addresses them. */
export interface MailContact {
  email: string;
  firstName: string;
  /** The language of their mail. */
  locale: string;
}

/**
 * `identity.principal.activity-changed`: members' or subusers' `active` flags flipped in one account
 * (a new membership, also one of a person removed before, counts as a reactivation). A flip writes
 * one change; the upgrade that brought this event announced the principals inactive before it in
 * events of up to 500 changes (one per account and chunk). Events may arrive more than once and in
 * either order: a consumer keeps, per principal, the change with the latest `changedAt`.
 */
export interface PrincipalActivityChangedData {
  accountId: string;
  /** At least one; each principal at most once. */
  changes: PrincipalActivityChange[];
}

/** A principal of the event's account became active or inactive. */
export interface PrincipalActivityChange {
  principalType: PrincipalType;
  principalId: string;
  active: boolean;
  /**
   * When it changed, by identity's database clock, read once the change held the principal's row
   * (ISO 8601 in UTC, microseconds): a later change of the same principal carries a later time.
   */
  changedAt: string;
}

/** Who made a change of an access object, in which account, from where: every `access.*` event carries it. */
export interface AccessChangeBy {
  accountId: string;
  /** The principal who made the change. */
  actor: Principal;
  /** The client address the gateway saw; null when the caller sent none (an internal service). */
  ip: string | null;
}

/** A value before and after a change. */
export interface Change<T> {
  from: T;
  to: T;
}

/** `access.role.created`. `grants`: what the role grants, as `section:action` each. */
export interface RoleCreatedData extends AccessChangeBy {
  roleId: string;
  name: string;
  description: string | null;
  grants: string[];
}

/** `access.role.updated`: only what changed, from before to after (`grants` as `section:action` each). */
export interface RoleUpdatedData extends AccessChangeBy {
  roleId: string;
  /** The role's name after the change. */
  name: string;
  changes: { name?: Change<string>; description?: Change<string | null>; grants?: Change<string[]> };
  /** How many principals hold the role: a change of its grants reached each of them at once. */
  holders: number;
}

/** `access.role.deleted`: the role as it was. */
export interface RoleDeletedData extends AccessChangeBy {
  roleId: string;
  name: string;
  grants: string[];
}

/** `access.application.created`. */
export interface ApplicationCreatedData extends AccessChangeBy {
  applicationId: string;
  name: string;
}

/** `access.application.renamed`. */
export interface ApplicationRenamedData extends AccessChangeBy {
  applicationId: string;
  name: string;
  previousName: string;
}

/** `access.application.deleted`: the application as it was, and what its deletion did to the bindings limited to it. */
export interface ApplicationDeletedData extends AccessChangeBy {
  applicationId: string;
  name: string;
  /** Bindings that lost it and kept other applications. */
  bindingsNarrowed: number;
  /** Bindings limited to it alone, deleted with it. */
  bindingsRemoved: number;
}

/** One role a principal holds, as an `access.bindings.replaced` event tells it: by id, by its name then, and where. */
export interface HeldRole {
  roleId: string;
  /** The role's name when the change was made (ids alone mean nothing once a role is gone). */
  role: string;
  /** The applications the role is limited to; null: every application. */
  applicationIds: string[] | null;
}

/**
 * `access.bindings.replaced`: what the principal held before the change and holds after it. Written
 * only by a change that commits and changes something: none for a dry run, a refusal, or the same
 * bindings set again. A removal's unbinding writes none (identity audits the removal itself).
 */
export interface BindingsReplacedData extends AccessChangeBy {
  principal: Principal;
  before: HeldRole[];
  after: HeldRole[];
  /**
   * The account's version in access as this change committed it: every change of an account raises
   * it, so of two events about a principal the higher version is the later change (identity's role
   * projection keeps only the latest, whatever order they arrive in). Absent from events of access
   * releases before it.
   */
  version?: number;
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
  [Events.SecondStepChanged]: SecondStepChangedData;
  [Events.SecondStepBlocked]: SecondStepBlockedData;
  [Events.RecoveryCodeUsed]: RecoveryCodeUsedData;
  [Events.EmailChangeRequested]: EmailChangeRequestedData;
  [Events.EmailChanged]: EmailChangedData;
  [Events.SubuserEmailChanged]: SubuserEmailChangedData;
  [Events.LinksVoided]: LinksVoidedData;
  [Events.AccountClosed]: AccountClosedData;
  [Events.OwnershipTransferred]: OwnershipTransferredData;
  [Events.PrincipalActivityChanged]: PrincipalActivityChangedData;
  [Events.RoleCreated]: RoleCreatedData;
  [Events.RoleUpdated]: RoleUpdatedData;
  [Events.RoleDeleted]: RoleDeletedData;
  [Events.ApplicationCreated]: ApplicationCreatedData;
  [Events.ApplicationRenamed]: ApplicationRenamedData;
  [Events.ApplicationDeleted]: ApplicationDeletedData;
  [Events.BindingsReplaced]: BindingsReplacedData;
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

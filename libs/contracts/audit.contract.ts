import { ApiProperty, ApiPropertyOptional } from './api-docs.js';
import { isISO8601, IsDefined, IsIn, IsOptional, ValidateBy } from 'class-validator';
import { Nested } from './nested.js';
import { IsUuid } from './uuid.js';
import { AccountRequest, PageQuery } from './account-request.js';
import { Principal } from './actor.js';

/**
 * Everything the audit trail records: identity's own actions, and access's changes of roles,
 * applications and who holds which role (from its events). `*.failed` and `*.refused` are failures; the rest are successes.
 * A refresh is not recorded (a session refreshes every few minutes; its sign-in and its end are);
 * `user.added` was written by releases before consent was asked of someone Portico knew.
 */
export const AUDIT_ACTIONS = [
  'login.succeeded',
  'login.failed',
  'login.throttled',
  'session.refresh-reused',
  'session.ended',
  'sessions.ended',
  'password.changed',
  'password.change-failed',
  'password.reset-requested',
  'password.reset',
  'email.change-requested',
  'email.change-failed',
  'email.changed',
  'email.change-undone',
  'login.second-step-required',
  'login.second-step-failed',
  'mfa.enabled',
  'mfa.disabled',
  'mfa.change-failed',
  'mfa.recovery-codes-renewed',
  'mfa.reset',
  'mfa.blocked',
  'account.created',
  'account.ownership-transferred',
  'account.updated',
  'user.activated',
  'user.invited',
  'user.added',
  'user.joined',
  'user.invitation-declined',
  'user.updated',
  'user.removed',
  'user.left',
  'user.invitation-resent',
  'user.invitation-revoked',
  'subuser.created',
  'subuser.updated',
  'subuser.deleted',
  'subuser.activated',
  'subuser.invitation-resent',
  'service-account.created',
  'service-account.updated',
  'service-account.deleted',
  'service-account.key-created',
  'service-account.key-revoked',
  'service-account.token-issued',
  'service-account.token-refused',
  'role.created',
  'role.updated',
  'role.deleted',
  'application.created',
  'application.renamed',
  'application.deleted',
  'roles.changed',
] as const;

/** One of {@link AUDIT_ACTIONS}. */
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/** Whether the audited attempt worked. */
export const AUDIT_OUTCOMES = ['success', 'failure'] as const;
/** One of {@link AUDIT_OUTCOMES}. */
export type AuditOutcome = (typeof AUDIT_OUTCOMES)[number];

/** What an audit event can be about: a principal, or a custom role or an application of the account. */
export const AUDIT_TARGET_TYPES = ['user', 'subuser', 'service-account', 'role', 'application'] as const;
/** One of {@link AUDIT_TARGET_TYPES}. */
export type AuditTargetType = (typeof AUDIT_TARGET_TYPES)[number];

/** On whom or what an audited action was done. */
export class AuditTarget {
  @ApiProperty({ enum: AUDIT_TARGET_TYPES }) type: AuditTargetType;
  @ApiProperty({ format: 'uuid' }) id: string;
}

/**
 * ISO 8601's extended form, a date, or a date and time with its zone (2026-03-01, 2026-03-01T10:00:00Z):
 * what both JavaScript and PostgreSQL read. The basic (20260301) and week (2026-W09) forms, which
 * ISO 8601 also allows, read as no time at all in JavaScript; year 0000 is none in PostgreSQL.
 */
const EXTENDED_ISO_8601 = /^(?!0000)\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2}))?$/;

/** A time bound of a query: a real day and time (strict ISO 8601) written in {@link EXTENDED_ISO_8601}; refused naming the field. */
export function IsInstant(): PropertyDecorator {
  return ValidateBy({
    name: 'isInstant',
    validator: {
      validate: (value: unknown) => typeof value === 'string' && EXTENDED_ISO_8601.test(value) && isISO8601(value, { strict: true }),
      defaultMessage: (args) => `${args?.property ?? 'time'} must be an ISO 8601 date or date-time such as 2026-03-01T10:00:00Z`,
    },
  });
}

/** `GET /v1/accounts/{accountId}/audit-events`: newest first. */
export class AuditQuery extends PageQuery {
  @ApiPropertyOptional({ enum: AUDIT_ACTIONS })
  @IsOptional()
  @IsIn(AUDIT_ACTIONS)
  action?: AuditAction;

  @ApiPropertyOptional({ enum: AUDIT_OUTCOMES })
  @IsOptional()
  @IsIn(AUDIT_OUTCOMES)
  outcome?: AuditOutcome;

  @ApiPropertyOptional({ format: 'uuid', description: 'Who acted' })
  @IsOptional()
  @IsUuid()
  actorId?: string;

  @ApiPropertyOptional({ format: 'uuid', description: 'On whom or what (a user, subuser, custom role or application id)' })
  @IsOptional()
  @IsUuid()
  targetId?: string;

  @ApiPropertyOptional({ format: 'date-time', description: 'From this time on (inclusive); a date alone is its midnight UTC' })
  @IsOptional()
  @IsInstant()
  from?: string;

  @ApiPropertyOptional({ format: 'date-time', description: 'Before this time; a date alone is its midnight UTC' })
  @IsOptional()
  @IsInstant()
  to?: string;
}

/** One audit event: who did what to whom, when, from where. Never carries a secret. */
export class AuditEventView {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'date-time' }) occurredAt: string;
  @ApiProperty({ enum: AUDIT_ACTIONS }) action: AuditAction;
  @ApiProperty({ enum: AUDIT_OUTCOMES }) outcome: AuditOutcome;
  @ApiProperty({ type: Principal, nullable: true, description: 'null: someone not signed in' }) actor: Principal | null;
  @ApiProperty({ type: AuditTarget, nullable: true, description: 'On whom or what; `details.name` names a role or application' }) target: AuditTarget | null;
  @ApiProperty({ nullable: true, type: String, description: 'Client address' }) ip: string | null;
  @ApiProperty({ type: Object, description: 'What changed, or why it failed' }) details: Record<string, unknown>;
}

/** A page of audit events. */
export class AuditPageView {
  @ApiProperty({ type: [AuditEventView] }) items: AuditEventView[];
  @ApiProperty({ nullable: true, type: String }) nextCursor: string | null;
}

/** `identity.audit.list`. */
export class ListAuditEventsRequest extends AccountRequest {
  @IsDefined()
  @Nested(() => AuditQuery)
  query: AuditQuery;
}

/** Where a feed without a cursor starts. */
export const AUDIT_FEED_STARTS = ['oldest', 'now'] as const;
/** One of {@link AUDIT_FEED_STARTS}. */
export type AuditFeedStart = (typeof AUDIT_FEED_STARTS)[number];

/**
 * `GET /v1/accounts/{accountId}/audit-events/feed`: every event of the account, oldest first, in
 * an order no later commit slips behind, for a reader that copies the trail elsewhere (a SIEM).
 */
export class AuditFeedQuery extends PageQuery {
  @ApiPropertyOptional({
    enum: AUDIT_FEED_STARTS,
    default: 'oldest',
    description:
      'Without a cursor: from the first event kept (`oldest`), or from about now (`now`: nothing committed after the call is missed; events committed just before it may come too while an older transaction runs)',
  })
  @IsOptional()
  @IsIn(AUDIT_FEED_STARTS)
  start?: AuditFeedStart;
}

/** A page of the audit feed. */
export class AuditFeedPageView {
  @ApiProperty({ type: [AuditEventView] }) items: AuditEventView[];
  @ApiProperty({
    description:
      'Where to read on from (opaque; never null: keep it, and ask with it again for what was written since). ' +
      'Fewer items than `limit`: the feed was read to its end; wait a little before asking again.',
  })
  nextCursor: string;
}

/** `identity.audit.feed`. */
export class FeedAuditEventsRequest extends AccountRequest {
  @IsDefined()
  @Nested(() => AuditFeedQuery)
  query: AuditFeedQuery;
}

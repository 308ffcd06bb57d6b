import { ApiProperty, ApiPropertyOptional } from './api-docs.js';
import { IsDefined, IsIn, IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { Nested } from './nested.js';
import { QueryInteger } from './query-integer.js';
import { Actor } from './actor.js';
import { IsUuid } from './uuid.js';

/**
 * Where one mail stands. `pending`: waiting for its (next) attempt; `sending`: handed to SMTP
 * now; `sent`: accepted by the SMTP server; `failed`: refused for good (5xx) or not renderable;
 * `dead`: temporary failures until the attempts ran out (the dead letters); `suppressed`: over a
 * rate limit, never sent; `cancelled`: the link it carried was voided (a newer link, a revoked
 * invitation, a removed person) or had expired before the mail could go out, not sent (again: an
 * earlier attempt that stopped mid-send may have delivered it, and its last error then says so).
 */
export const DELIVERY_STATUSES = ['pending', 'sending', 'sent', 'failed', 'dead', 'suppressed', 'cancelled'] as const;
/** One of {@link DELIVERY_STATUSES}. */
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/**
 * The mails notifications knows how to write, one template each (in every locale). A hand-over
 * makes two: `ownership-received` to the new owner, `ownership-handed-over` to the previous one. A
 * request to move a login to another e-mail makes `email-change-confirm` to that address (or
 * `email-change-in-use` when it already has a login); the move, `email-changed` to the address left.
 */
export const MAIL_TEMPLATES = [
  'activation',
  'added-to-account',
  'subuser-activation',
  'password-reset',
  'subuser-password-reset',
  'password-changed',
  'ownership-received',
  'ownership-handed-over',
  'email-change-confirm',
  'email-change-in-use',
  'email-changed',
  'subuser-email-changed',
  'second-step-changed',
  'second-step-blocked',
  'recovery-code-used',
] as const;
/** One of {@link MAIL_TEMPLATES}. */
export type MailTemplate = (typeof MAIL_TEMPLATES)[number];

/** Largest page of the delivery log. */
export const DELIVERIES_PAGE_MAX = 100;

/** `GET /v1/accounts/{accountId}/deliveries` query. */
export class ListDeliveriesQuery {
  @ApiPropertyOptional({ enum: DELIVERY_STATUSES })
  @IsOptional()
  @IsIn(DELIVERY_STATUSES)
  status?: DeliveryStatus;

  @ApiPropertyOptional({ enum: MAIL_TEMPLATES })
  @IsOptional()
  @IsIn(MAIL_TEMPLATES)
  template?: MailTemplate;

  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: DELIVERIES_PAGE_MAX, default: 50 })
  @IsOptional()
  @QueryInteger({ min: 1, max: DELIVERIES_PAGE_MAX })
  limit?: number;

  @ApiPropertyOptional({ description: 'The nextCursor of the previous page' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  @Matches(/^[A-Za-z0-9_-]+$/, { message: 'cursor is not one this API gave' })
  cursor?: string;
}

/** `notifications.deliveries.list`: one page of an account's delivery log, as the actor may see it. */
export class ListDeliveriesRequest extends ListDeliveriesQuery {
  @IsDefined()
  @Nested(() => Actor)
  actor: Actor;

  @IsUuid()
  accountId: string;
}

/** One line of the delivery log. */
export class DeliveryView {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({
    format: 'uuid',
    description: 'The event that asked for the mail (also the Message-ID of its mail, when it makes only one; an event that makes several gives each its own)',
  })
  eventId: string;
  @ApiProperty({ example: 'identity.user.invited' }) event: string;
  @ApiProperty({ enum: MAIL_TEMPLATES }) template: MailTemplate;
  @ApiProperty({ example: 'en' }) locale: string;
  @ApiProperty({ description: 'The address; masked (a***@example.com) unless the caller may read members', example: 'a***@example.com' })
  recipient: string;
  @ApiProperty({ enum: DELIVERY_STATUSES }) status: DeliveryStatus;
  @ApiProperty({ description: 'SMTP attempts made' }) attempts: number;
  @ApiProperty({ type: String, nullable: true, description: 'Why the last attempt failed, or why the mail was not sent' }) lastError: string | null;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({ format: 'date-time' }) updatedAt: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) lastAttemptAt: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'When a pending mail is tried again' }) nextAttemptAt: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) sentAt: string | null;
}

/** A page of the delivery log, newest first. */
export class DeliveryPage {
  @ApiProperty({ type: [DeliveryView] }) items: DeliveryView[];
  @ApiProperty({ type: String, nullable: true, description: 'Pass as `cursor` for the next page; null on the last page' }) nextCursor: string | null;
}

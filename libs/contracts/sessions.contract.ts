import { ApiProperty } from './api-docs.js';
import { IsDefined, IsOptional, IsString, Length, Matches } from 'class-validator';
import { Nested } from './nested.js';
import { ActorClientRequest, ClientRequest } from './account-request.js';
import type { PrincipalType } from './actor.js';
import { IsUuid, UUID_PATTERN } from './uuid.js';

/** `POST /v1/auth/refresh` and `POST /v1/auth/logout`. */
export class RefreshTokenBody {
  @ApiProperty({ description: 'The refresh token of the last token pair', minLength: 10, maxLength: 200 })
  @IsString()
  @Length(10, 200)
  refreshToken: string;
}

/** `identity.auth.refresh` and `identity.auth.logout`. */
export class RefreshRequest extends ClientRequest {
  @IsDefined()
  @Nested(() => RefreshTokenBody)
  body: RefreshTokenBody;
}

/** A session (sign-in) of the caller. */
export class SessionView {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({ format: 'date-time' }) lastUsedAt: string;
  @ApiProperty({ format: 'date-time', description: 'The absolute end of the session' }) expiresAt: string;
  @ApiProperty({ nullable: true, type: String, description: 'The address it was opened from, then the address of its last refresh' }) ip: string | null;
  @ApiProperty({
    nullable: true,
    type: String,
    maxLength: 512,
    description:
      'The User-Agent of the client that opened it, then of its last refresh that sent one (control and format characters and runs of white space made one space, cut to 512 characters); null when none was sent, and for sessions opened before Portico kept it',
  })
  userAgent: string | null;
  @ApiProperty({
    nullable: true,
    type: String,
    description: 'What the User-Agent says in a few words, such as "Firefox 133 on Linux" or "curl 8.5"; null when there is none or it names nothing known',
    example: 'Chrome 131 on Windows',
  })
  device: string | null;
  @ApiProperty({ description: 'The session of the token making this request' }) current: boolean;
}

/** `identity.sessions.end-own`: the caller ends one of their sessions. */
export class EndOwnSessionRequest extends ActorClientRequest {
  @IsUuid()
  sessionId: string;
}

/** A session that ended, and when its last access token expires at the latest. */
export interface RevokedSession {
  id: string;
  /** ISO time after which no access token of this session can be valid anyway. */
  until: string;
}

/** A principal barred from one account while its membership stays (an inactive user). */
export interface SuspendedPrincipal {
  accountId: string;
  principalType: PrincipalType;
  principalId: string;
}

/** What a gateway must refuse. */
export interface GateState {
  revokedSessions: RevokedSession[];
  suspended: SuspendedPrincipal[];
  /** Accounts that refuse sessions opened without a second step. */
  secondStepAccounts: string[];
  /**
   * Open sessions whose login's second step was turned off: their access tokens that say a second
   * step was passed (`amr` holds `mfa`) no longer count as such, until they expire (`until`).
   * Absent from an identity of the release before.
   */
  secondStepLost?: RevokedSession[];
}

/** Rows of each list in one page of {@link GateStatePage} (a page stays far below NATS's 1 MB payload). */
export const GATE_STATE_PAGE_SIZE = 2000;

const UUID = UUID_PATTERN.source.slice(1, -1);
/** Two UUIDs (by {@link UUID_PATTERN}) joined by a colon: a place in the list of suspended principals. */
const UUID_PAIR = new RegExp(`^${UUID}:${UUID}$`, 'i');

/** `identity.sessions.gate-state`: one page of what a gateway must refuse; ask again with `next` until it is null. */
export class GateStateRequest {
  /** Continue the revoked sessions after this session id. */
  @IsOptional()
  @IsUuid()
  revokedAfter?: string;

  /** Continue the suspended principals after this `accountId:principalId` (both UUIDs: they go to PostgreSQL as such). */
  @IsOptional()
  @Matches(UUID_PAIR, { message: '$property must be two UUIDs joined by a colon (accountId:principalId)' })
  suspendedAfter?: string;

  /** Continue the accounts that require a second step after this account id. */
  @IsOptional()
  @IsUuid()
  secondStepAfter?: string;

  /** Continue the sessions that lost their second step after this session id. */
  @IsOptional()
  @IsUuid()
  secondStepLostAfter?: string;
}

/** A page of the gate state. */
export interface GateStatePage extends GateState {
  next: { revokedAfter?: string; suspendedAfter?: string; secondStepAfter?: string; secondStepLostAfter?: string } | null;
}

/** Broadcast (plain NATS, every gateway replica listens): these sessions ended; refuse their access tokens. */
export const SESSIONS_REVOKED = 'identity.sessions.revoked';

/** The payload of {@link SESSIONS_REVOKED}. */
export interface SessionsRevokedEvent {
  sessions: RevokedSession[];
  /**
   * Sessions that stay open but whose login's second step was turned off (see
   * {@link GateState.secondStepLost}); said on this subject, which every gateway may already hear,
   * with `sessions` empty: a gateway of the release before ignores it.
   */
  secondStepLost?: RevokedSession[];
  /**
   * Sessions listed before in `secondStepLost` that passed a second step again (the session turned
   * its login's on again, its first code checked): their tokens count again. Said with `sessions`
   * empty: a gateway of the release before ignores it, and drops them at its next gate-state load.
   */
  secondStepRegained?: string[];
}

/** Broadcast: a principal was suspended in (or readmitted to) an account. */
export const SUSPENSION_CHANGED = 'identity.principals.suspension-changed';

/** The payload of {@link SUSPENSION_CHANGED}. */
export interface SuspensionChangedEvent extends SuspendedPrincipal {
  suspended: boolean;
  /**
   * When it changed, by identity's database clock, read at the end of the change's transaction
   * (which holds the person's row): a later change of the same principal carries a later time, so a
   * gateway that hears two out of order (two identity replicas) keeps the later. ISO 8601 in UTC,
   * microseconds. Absent from an identity of the release before.
   */
  changedAt?: string;
}

/** Broadcast: an account began (or stopped) requiring two-step sign-in. */
export const SECOND_STEP_POLICY_CHANGED = 'identity.accounts.second-step-policy-changed';

/** The payload of {@link SECOND_STEP_POLICY_CHANGED}. */
export interface SecondStepPolicyChangedEvent {
  accountId: string;
  requireSecondStep: boolean;
}

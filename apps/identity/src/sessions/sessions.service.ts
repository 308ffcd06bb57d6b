import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DataSource, IsNull, MoreThan, Not, type EntityManager, type FindOperator } from 'typeorm';
import type { Actor, GateStatePage, GateStateRequest, Principal, RevokedSession, SessionView, TokenPairView } from '#libs/contracts/index.js';
import { authenticationMethods, GATE_STATE_PAGE_SIZE, principalOf } from '#libs/contracts/index.js';
import { DomainError, ErrorCode } from '#libs/errors/index.js';
import { Clock, CONFIG } from '#libs/platform/index.js';
import { preparedQuery } from '#libs/platform/storage.js';
import { MAX_ACCESS_TOKEN_TTL_SECONDS, type IdentityConfig } from '../identity.config.js';
import { AuditService, type AuditEntry } from '../audit/audit.service.js';
import { signAccessToken } from './access-token.js';
import { ActionTokensService } from '../credentials/action-tokens.service.js';
import type { SessionLosingSecondStep } from '../mfa/totp-factors.js';
import { hashSecretToken, newSecretToken } from '../credentials/secret-token.js';
import { Transactions, type UnitOfWork } from '../database/unit-of-work.js';
import { GateBroadcaster } from './gate-broadcaster.js';
import { activeAccountsOf, maySignIn } from './principal-state.js';
import { deviceOf, type SignInClient } from './user-agent.js';
import { RetiredRefreshTokenEntity } from './retired-refresh-token.entity.js';
import { SessionEntity, type SessionEndReason } from './session.entity.js';
import { SigningKeysService } from './signing-keys.service.js';

/** Clock skew allowed when deciding until when a revoked session's tokens must be refused. */
const SKEW_MS = 30_000;

const SIGNED_OUT = 'Your session has ended; sign in again';
const MIN_UUID = '00000000-0000-0000-0000-000000000000';
const MAX_UUID = 'ffffffff-ffff-ffff-ffff-ffffffffffff';
/** The columns {@link SessionsService.newSession} gives values for, in order. */
const SESSION_COLUMNS =
  'id, principal_type, principal_id, account_id, refresh_hash, ip, user_agent, created_at, last_used_at, expires_at, second_step_passed, access_expires_at';

type RefreshOutcome = { pair: TokenPairView } | { refused: true };

/** When an access token is issued and when it expires (seconds since the epoch, as its claims say). */
interface TokenTimes {
  iat: number;
  exp: number;
}

/** A sign-in about to open its session: whom, and what it found and checked (see {@link SessionsService.openAtSignIn}). */
export interface SignInToOpen {
  principal: Principal;
  /** The password hash the password was checked against. */
  seenPasswordHash: string;
  /** The account a subuser session belongs to (null for a person). */
  accountId: string | null;
  client: SignInClient;
  audit: AuditEntry;
  /** A SELECT whose parameters are numbered from `alongsideFirst`, that runs only if `onlyIf` holds (such as clearing the throttle). */
  alongside: (alongsideFirst: number, onlyIf: string) => { sql: string; parameters: unknown[] };
  /** Whether the second step was passed; without it, the session opens only while the principal's second step is off. */
  secondStepPassed: boolean;
}

/** A service account's exchange of its key for an access token (see {@link SessionsService.issueForServiceAccount}). */
export interface ServiceAccountGrant {
  serviceAccount: Principal;
  accountId: string;
  keyId: string;
  /** When the key expires (null: never): no token outlives it. */
  keyExpiresAt: Date | null;
  ip: string;
}

/** What the statement of a sign-in answers: whether the session opened, and the sessions it ended beyond MAX_OPEN_SESSIONS (null: none). */
interface SignInOutcome {
  opened: boolean;
  ended: Array<{ id: string; accessExpiresAt: string | null }> | null;
}

/** Opens sessions, rotates their refresh tokens and ends them (telling every gateway at once). */
@Injectable()
export class SessionsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly transactions: Transactions,
    private readonly keys: SigningKeysService,
    private readonly broadcaster: GateBroadcaster,
    private readonly audit: AuditService,
    private readonly tokens: ActionTokensService,
    private readonly clock: Clock,
    @Inject(CONFIG) private readonly config: IdentityConfig,
  ) {}

  /** Starts a session for `principal` and returns its first token pair. */
  async open(manager: EntityManager, principal: Principal, accountId: string | null, client: SignInClient): Promise<TokenPairView> {
    const { session, refreshToken, times, values, parameters } = this.newSession(principal, accountId, client, false, 1);
    await manager.query(`INSERT INTO sessions (${SESSION_COLUMNS}) VALUES (${values})`, parameters);
    return this.pair(session, refreshToken, times);
  }

  /**
   * Records a sign-in in one statement (atomic, one round trip): the last sign-in time of the
   * principal (and of its active memberships), the new session, the audit event, and `alongside`
   * (which runs only if the session opens).
   *
   * All of it happens only if the login is still as the sign-in found it: the password hash it
   * checked the password against (`seenPasswordHash`), active, (a person) an active member
   * somewhere, and its second step off unless it was passed. The statement locks those rows as an
   * UPDATE would, so a reset, password change, deactivation, removal or a second step turned on
   * (each updates the principal's row) either commits first (and the sign-in sees it) or waits for
   * the sign-in to commit (and its `endAll()` then sees the new session). Resolves with null,
   * having changed nothing, when the login changed meanwhile. Runs on a connection of its own, or
   * in the transaction of `unit` when given.
   *
   * The login keeps at most MAX_OPEN_SESSIONS open sessions: the same statement ends those beyond
   * it, used least recently first ('session-limit'; the gateways hear of it once it has committed).
   */
  async openAtSignIn(signIn: SignInToOpen, unit?: UnitOfWork): Promise<TokenPairView | null> {
    const { principal, seenPasswordHash, accountId, client, audit, alongside, secondStepPassed } = signIn;
    const state = [principal.id, principal.type, this.clock.now(), seenPasswordHash, secondStepPassed];
    const started = this.newSession(principal, accountId, client, secondStepPassed, state.length + 1);
    const granted = 'EXISTS (SELECT 1 FROM granted)';
    const recorded = this.audit.insertStatement(audit, state.length + started.parameters.length + 1, granted);
    const also = alongside(state.length + started.parameters.length + recorded.parameters.length + 1, granted);
    const keptBeside = state.length + started.parameters.length + recorded.parameters.length + also.parameters.length + 1;
    // The sessions it ends beyond the limit, in the audit trail: by the login signing in, from where it signs in.
    const limitAudited = this.audit.insertStatement(
      { ...audit, action: 'sessions.ended', actor: principal, target: principal, details: { reason: 'session-limit' } },
      keptBeside + 1,
      'EXISTS (SELECT 1 FROM beyond_limit)',
      `jsonb_build_object('count', (SELECT count(*) FROM beyond_limit))`,
    );
    const text = `WITH still_user AS (
              SELECT id FROM users WHERE id = $1 AND $2 = 'user' AND password_hash = $4 AND status = 'active' AND (NOT second_step OR $5)
                 FOR NO KEY UPDATE),
            still_memberships AS (SELECT account_id FROM memberships WHERE user_id IN (SELECT id FROM still_user) AND active FOR NO KEY UPDATE),
            still_subuser AS (
              SELECT id FROM subusers WHERE id = $1 AND $2 = 'subuser' AND password_hash = $4 AND status = 'active' AND active AND (NOT second_step OR $5)
                 FOR NO KEY UPDATE),
            granted AS (SELECT 1 WHERE EXISTS (SELECT 1 FROM still_memberships) OR EXISTS (SELECT 1 FROM still_subuser)),
            touched_user AS (UPDATE users SET last_login_at = $3 WHERE id IN (SELECT id FROM still_user) AND ${granted} RETURNING 1),
            touched_memberships AS (
              UPDATE memberships SET last_login_at = $3 WHERE user_id = $1 AND account_id IN (SELECT account_id FROM still_memberships) RETURNING 1),
            touched_subuser AS (UPDATE subusers SET last_login_at = $3 WHERE id IN (SELECT id FROM still_subuser) RETURNING 1),
            new_session AS (INSERT INTO sessions (${SESSION_COLUMNS}) SELECT ${started.values} WHERE ${granted} RETURNING 1),
            beyond_limit AS (
              UPDATE sessions SET revoked_at = $3, end_reason = 'session-limit'
               -- Checked again on the row as it is now: ended meanwhile (while this waited on the person's row), it keeps how it ended.
               WHERE ${granted} AND revoked_at IS NULL AND id IN (
                 SELECT id FROM sessions WHERE principal_id = $1 AND principal_type = $2 AND revoked_at IS NULL AND expires_at > $3
                  ORDER BY last_used_at DESC, created_at DESC, id OFFSET $${keptBeside})
               RETURNING id, access_expires_at),
            audited AS (${recorded.sql} RETURNING 1),
            limit_audited AS (${limitAudited.sql} RETURNING 1),
            alongside AS (${also.sql})
       SELECT (SELECT count(*) FROM alongside) AS cleared, EXISTS (SELECT 1 FROM new_session) AS opened,
              (SELECT json_agg(json_build_object('id', id, 'accessExpiresAt', access_expires_at)) FROM beyond_limit) AS ended`;
    // The sessions open before this one that may stay beside it.
    const values = [...state, ...started.parameters, ...recorded.parameters, ...also.parameters, this.config.MAX_OPEN_SESSIONS - 1, ...limitAudited.parameters];
    const [{ opened, ended }] = unit
      ? await unit.manager.query<SignInOutcome[]>(text, values)
      : await preparedQuery<SignInOutcome>(this.dataSource, text, values);
    if (ended) this.tellEndedBeyondLimit(ended, unit);
    return opened ? this.pair(started.session, started.refreshToken, started.times) : null;
  }

  /**
   * An access token for a service account that presented its key `keyId`, in `unit`'s
   * transaction: a session row of its own that ends with the token (SERVICE_ACCOUNT_TOKEN_TTL_SECONDS,
   * or the key's expiry if sooner), so that the gate refuses it at once when the key is revoked
   * ({@link endForKey}) or the service account deactivated or deleted ({@link endAll}). It has no
   * refresh token (its refresh hash is of a secret nobody holds): the program asks again.
   */
  async issueForServiceAccount(unit: UnitOfWork, grant: ServiceAccountGrant): Promise<{ accessToken: string; expiresIn: number }> {
    const now = this.clock.now();
    const lifetimeEnd = now.getTime() + this.config.SERVICE_ACCOUNT_TOKEN_TTL_SECONDS * 1000;
    const times = { iat: Math.floor(now.getTime() / 1000), exp: Math.floor(Math.min(lifetimeEnd, grant.keyExpiresAt?.getTime() ?? Infinity) / 1000) };
    const session = Object.assign(new SessionEntity(), {
      id: randomUUID(),
      principalType: grant.serviceAccount.type,
      principalId: grant.serviceAccount.id,
      secondStepPassed: false,
      expiresAt: new Date(times.exp * 1000),
    });
    await unit.manager.query(
      `INSERT INTO sessions (${SESSION_COLUMNS}, service_account_key_id) VALUES ($1, $2, $3, $4, $5, $6, NULL, $7, $7, $8, false, $8, $9)`,
      [
        session.id,
        session.principalType,
        session.principalId,
        grant.accountId,
        hashSecretToken(newSecretToken()),
        grant.ip,
        now,
        session.expiresAt,
        grant.keyId,
      ],
    );
    return { accessToken: this.accessToken(session, times), expiresIn: times.exp - times.iat };
  }

  /** Ends the open sessions (the live tokens) a service account got for its key `keyId`; the gateways hear of it after the commit. */
  async endForKey(unit: UnitOfWork, serviceAccount: Principal, keyId: string): Promise<RevokedSession[]> {
    const sessions = await unit.manager.find(SessionEntity, {
      where: {
        principalType: serviceAccount.type,
        principalId: serviceAccount.id,
        serviceAccountKeyId: keyId,
        revokedAt: IsNull(),
        ...this.stillValid(serviceAccount),
      },
      select: { id: true },
    });
    return this.end(unit, sessions, 'key-revoked');
  }

  /** Tells the gateways of the sessions a sign-in ended beyond MAX_OPEN_SESSIONS: after `unit` commits, or now (its statement committed). */
  private tellEndedBeyondLimit(ended: NonNullable<SignInOutcome['ended']>, unit?: UnitOfWork): void {
    const now = this.clock.now();
    const revoked = ended.map(({ id, accessExpiresAt }) => ({
      id,
      until: this.refuseUntil(now, accessExpiresAt ? new Date(accessExpiresAt) : null).toISOString(),
    }));
    if (unit) this.broadcaster.sessionsRevoked(unit, revoked);
    else this.broadcaster.sessionsRevokedNow(revoked);
  }

  /** A new session of `principal`: its row's values (placeholders numbered from `first`, typed) and parameters. */
  private newSession(principal: Principal, accountId: string | null, client: SignInClient, secondStepPassed: boolean, first: number) {
    const { ip, userAgent } = client;
    const refreshToken = newSecretToken();
    const now = this.clock.now();
    const session = Object.assign(new SessionEntity(), {
      id: randomUUID(),
      principalType: principal.type,
      principalId: principal.id,
      accountId,
      refreshHash: hashSecretToken(refreshToken),
      ip,
      userAgent,
      createdAt: now,
      lastUsedAt: now,
      expiresAt: new Date(now.getTime() + this.lifetimeMs(principal)),
      revokedAt: null,
      endReason: null,
      secondStepPassed,
    });
    const times = this.tokenTimes(session);
    session.accessExpiresAt = new Date(times.exp * 1000);
    const p = (offset: number) => `$${first + offset}`;
    return {
      session,
      refreshToken,
      times,
      values: `${p(0)}::uuid, ${p(1)}::text, ${p(2)}::uuid, ${p(3)}::uuid, ${p(4)}::text, ${p(5)}::text, ${p(6)}::text, ${p(7)}::timestamptz, ${p(7)}::timestamptz, ${p(8)}::timestamptz, ${p(9)}::boolean, ${p(10)}::timestamptz`,
      parameters: [
        session.id,
        session.principalType,
        session.principalId,
        accountId,
        session.refreshHash,
        ip,
        userAgent,
        now,
        session.expiresAt,
        secondStepPassed,
        session.accessExpiresAt,
      ],
    };
  }

  /**
   * Exchanges a refresh token for a new pair. A token already exchanged proves a leak: its whole
   * session ends (S1). Ended, expired or disabled principals' sessions are refused. The session
   * takes the client's address, and its User-Agent when it sent one.
   */
  async refresh(token: string, client: SignInClient): Promise<TokenPairView> {
    const { ip, userAgent } = client;
    const hash = hashSecretToken(token);
    const outcome = await this.transactions.run(async (unit): Promise<RefreshOutcome> => {
      const session = await unit.manager.findOne(SessionEntity, { where: { refreshHash: hash }, lock: { mode: 'pessimistic_write' } });
      if (!session) {
        await this.endIfRetired(unit, hash, ip);
        return { refused: true };
      }
      const principal = ownerOf(session);
      if (session.revokedAt || session.expiresAt <= this.clock.now()) return { refused: true };
      if (!(await maySignIn(unit.manager, principal))) {
        await this.end(unit, [session], 'deactivated');
        return { refused: true };
      }
      const next = newSecretToken();
      const times = this.tokenTimes(session);
      await unit.manager.insert(RetiredRefreshTokenEntity, { tokenHash: hash, sessionId: session.id, retiredAt: this.clock.now() });
      const seen = { lastUsedAt: this.clock.now(), ip, ...(userAgent !== null && { userAgent }) };
      const accessExpiresAt = new Date(times.exp * 1000);
      await unit.manager.update(SessionEntity, { id: session.id }, { refreshHash: hashSecretToken(next), accessExpiresAt, ...seen });
      return { pair: this.pair(session, next, times) };
    });
    if ('refused' in outcome) throw new DomainError(ErrorCode.Unauthenticated, SIGNED_OUT);
    return outcome.pair;
  }

  /**
   * Ends the session of a refresh token (S2). A token already exchanged ends its session as at a
   * refresh (S1): whoever exchanged it holds the session now, and may not be whoever logs out.
   * Unknown tokens are ignored: logging out twice is fine.
   */
  async logout(token: string, ip: string): Promise<void> {
    const hash = hashSecretToken(token);
    await this.transactions.run(async (unit) => {
      const session = await unit.manager.findOne(SessionEntity, { where: { refreshHash: hash, revokedAt: IsNull() } });
      if (!session) return this.endIfRetired(unit, hash, ip);
      await this.end(unit, [session], 'logout');
      await this.audit.record(unit.manager, {
        accountIds: await this.auditAccounts(unit.manager, ownerOf(session)),
        action: 'session.ended',
        actor: ownerOf(session),
        target: ownerOf(session),
        ip,
        details: { reason: 'logout', sessionId: session.id },
      });
    });
  }

  /**
   * Refuses (403 SECOND_STEP_REQUIRED) an actor whose session did not pass a second step, as its
   * row says now: turning two-step sign-in off clears it there, whatever the access token still
   * says. The row is locked FOR SHARE until the caller's transaction ends, so that a factor being
   * turned off meanwhile (which updates it) is either seen or waits for the caller to commit.
   */
  async assertPassedSecondStep(manager: EntityManager, actor: Actor): Promise<void> {
    const rows = await manager.query<unknown[]>(
      `SELECT 1 FROM sessions WHERE id = $1 AND principal_type = $2 AND principal_id = $3 AND second_step_passed AND revoked_at IS NULL FOR SHARE`,
      [actor.sessionId, actor.type, actor.id],
    );
    if (rows.length === 0)
      throw new DomainError(
        ErrorCode.SecondStepRequired,
        'Sign in with two steps yourself before requiring it of everyone: turn two-step sign-in on (POST /v1/me/mfa/totp), then refresh your token',
      );
  }

  /**
   * After `unit` commits, tells the gateways that these open sessions no longer count as having
   * passed a second step (their login's was turned off): the access tokens they hold that say so
   * are refused where a second step is required, until they would have expired anyway.
   */
  secondStepLost(unit: UnitOfWork, sessions: SessionLosingSecondStep[]): void {
    const now = this.clock.now();
    this.broadcaster.secondStepLost(
      unit,
      sessions.map(({ id, accessExpiresAt }) => ({ id, until: this.refuseUntil(now, accessExpiresAt).toISOString() })),
    );
  }

  /** After `unit` commits, tells the gateways that this session counts as having passed a second step again (the tokens it holds too). */
  secondStepRegained(unit: UnitOfWork, sessionId: string): void {
    this.broadcaster.secondStepRegained(unit, sessionId);
  }

  /** The caller's open sessions, newest first (S4). */
  async listOwn(actor: Actor): Promise<SessionView[]> {
    return this.listOpen(actor, actor.sessionId);
  }

  /** The open sessions of `principal`, newest first (all of them: about MAX_OPEN_SESSIONS at most); `current` marks the one of `currentSessionId`. */
  async listOpen(principal: Principal, currentSessionId?: string): Promise<SessionView[]> {
    const sessions = await this.dataSource.getRepository(SessionEntity).find({
      where: { principalType: principal.type, principalId: principal.id, revokedAt: IsNull(), expiresAt: MoreThan(this.clock.now()) },
      order: { createdAt: 'DESC' },
      // Sign-ins at the same moment may each leave one more for a while (each ends those beyond the limit as it saw them).
      take: this.config.MAX_OPEN_SESSIONS * 2,
    });
    return sessions.map((session) => ({
      id: session.id,
      createdAt: session.createdAt.toISOString(),
      lastUsedAt: session.lastUsedAt.toISOString(),
      expiresAt: session.expiresAt.toISOString(),
      ip: session.ip,
      userAgent: session.userAgent,
      device: deviceOf(session.userAgent),
      current: session.id === currentSessionId,
    }));
  }

  /** The caller ends one of their sessions (404 for a session that is not theirs or already ended). */
  async endOwn(actor: Actor, sessionId: string, ip: string): Promise<number> {
    return this.transactions.run(async (unit) => {
      const sessions = await unit.manager.find(SessionEntity, {
        where: { id: sessionId, principalType: actor.type, principalId: actor.id, revokedAt: IsNull() },
      });
      if (sessions.length === 0) throw new DomainError(ErrorCode.NotFound, 'Session not found');
      await this.end(unit, sessions, 'ended-by-owner');
      await this.auditEnded(unit, actor, actor, ip, 'ended-by-owner', sessions.length);
      return sessions.length;
    });
  }

  /** The caller ends every session but the one they use, and every sign-in of theirs waiting for its code. */
  async endOthers(actor: Actor, ip: string): Promise<number> {
    return this.transactions.run(async (unit) => {
      const ended = await this.endAllWithChallenges(unit, actor, 'ended-by-owner', actor.sessionId);
      await this.auditEnded(unit, actor, actor, ip, 'ended-by-owner', ended.length);
      return ended.length;
    });
  }

  /**
   * An admin of `accountId` ends every session of `target` (S4), and every sign-in of theirs waiting
   * for its code; audited in that account. Returns how many sessions ended.
   */
  async endAllByAdmin(unit: UnitOfWork, actor: Actor, accountId: string, target: Principal, ip: string): Promise<number> {
    const ended = await this.endAllWithChallenges(unit, target, 'ended-by-admin');
    return this.recordEndedByAdmin(unit, actor, accountId, target, ip, ended.length);
  }

  /** Records that an admin of `accountId` ended `count` sessions of `target`; answers `count`. */
  async recordEndedByAdmin(unit: UnitOfWork, actor: Actor, accountId: string, target: Principal, ip: string, count: number): Promise<number> {
    await this.recordEnded(unit, [accountId], actor, target, ip, 'ended-by-admin', count);
    return count;
  }

  /**
   * {@link endAll}, and voids the sign-in challenges of `principal` waiting for a code first: a
   * session one of them would open later is one more of those asked to end (whoever has the
   * password and a code may be whom the sessions are ended against). Voided first, as a second
   * step takes its challenge before it opens its session: one under way either used its challenge
   * already (and its session is among those ended) or finds it voided.
   */
  private async endAllWithChallenges(unit: UnitOfWork, principal: Principal, reason: SessionEndReason, exceptSessionId?: string): Promise<RevokedSession[]> {
    await this.tokens.voidAll(unit.manager, principal, { purpose: 'sign-in' });
    return this.endAll(unit, principal, reason, exceptSessionId);
  }

  /** Ends every open session of `principal` (but `exceptSessionId`); the gateways hear of it after the commit. */
  async endAll(unit: UnitOfWork, principal: Principal, reason: SessionEndReason, exceptSessionId?: string): Promise<RevokedSession[]> {
    const sessions = await unit.manager.find(SessionEntity, {
      where: {
        principalType: principal.type,
        principalId: principal.id,
        revokedAt: IsNull(),
        ...this.stillValid(principal),
        ...(exceptSessionId ? { id: Not(exceptSessionId) } : {}),
      },
      select: { id: true },
    });
    return this.end(unit, sessions, reason);
  }

  /**
   * A service account's session is its one token (it ends when the token expires, and is never
   * refreshed): only those not expired yet (give or take {@link SKEW_MS}, a gateway's clock may be late) are ended. A program exchanging its key often holds many
   * expired ones until housekeeping removes them, which would otherwise all be broadcast to every
   * gateway and listed in their state again. A person's or subuser's sessions are all ended, as before.
   */
  private stillValid(principal: Principal): { expiresAt?: FindOperator<Date> } {
    return principal.type === 'service-account' ? { expiresAt: MoreThan(new Date(this.clock.now().getTime() - SKEW_MS)) } : {};
  }

  /**
   * One page of what gateways refuse: sessions ended whose access tokens may still be valid (see
   * {@link refuseUntil}), inactive memberships of people who can still sign in (active elsewhere;
   * the others have no session left at all), and accounts that require a second step. Each list continues after its own key; a
   * finished list answers MAX, but the accounts' list is named only while it goes on: an identity
   * of the release before refuses a key it does not know (a gateway sends `next` back as it came,
   * to any replica), and a finished list sent again with later pages changes nothing.
   */
  async gateState(request: GateStateRequest): Promise<GateStatePage> {
    const now = this.clock.now();
    // No token outlives its issue (before the session ended) by more than the longest lifetime allowed: the index narrows to those.
    const since = new Date(now.getTime() - MAX_ACCESS_TOKEN_TTL_SECONDS * 1000 - SKEW_MS);
    const revokedAfter = request.revokedAfter ?? MIN_UUID;
    const [suspendedAccount, suspendedUser] = (request.suspendedAfter ?? `${MIN_UUID}:${MIN_UUID}`).split(':');
    const secondStep: Array<{ id: string }> = await this.dataSource.query(
      'SELECT id FROM accounts WHERE second_step_required AND id > $1 ORDER BY id LIMIT $2',
      [request.secondStepAfter ?? MIN_UUID, GATE_STATE_PAGE_SIZE],
    );
    const revoked = await this.dataSource
      .getRepository(SessionEntity)
      .createQueryBuilder('s')
      .select(['s.id', 's.revokedAt', 's.accessExpiresAt'])
      .where('s.revoked_at > :since AND s.id > :after', { since, after: revokedAfter })
      .andWhere(`greatest(s.revoked_at + make_interval(secs => :ttl), s.access_expires_at) > :cutoff`, {
        ttl: this.config.ACCESS_TOKEN_TTL_SECONDS,
        cutoff: new Date(now.getTime() - SKEW_MS),
      })
      .orderBy('s.id')
      .limit(GATE_STATE_PAGE_SIZE)
      .getMany();
    const suspended: Array<{ account_id: string; user_id: string }> = await this.dataSource.query(
      `SELECT m.account_id, m.user_id FROM memberships m
        WHERE NOT m.active AND (m.account_id, m.user_id) > ($1::uuid, $2::uuid)
          AND EXISTS (SELECT 1 FROM memberships other WHERE other.user_id = m.user_id AND other.active)
        ORDER BY m.account_id, m.user_id LIMIT $3`,
      [suspendedAccount, suspendedUser, GATE_STATE_PAGE_SIZE],
    );
    const secondStepLost = await this.sessionsThatLostSecondStep(request.secondStepLostAfter ?? MIN_UUID, since, now);
    const moreRevoked = revoked.length === GATE_STATE_PAGE_SIZE;
    const moreSecondStepLost = secondStepLost.length === GATE_STATE_PAGE_SIZE;
    const moreSuspended = suspended.length === GATE_STATE_PAGE_SIZE;
    const moreSecondStep = secondStep.length === GATE_STATE_PAGE_SIZE;
    const lastSuspended = suspended[suspended.length - 1];
    return {
      revokedSessions: revoked.map((session) => ({ id: session.id, until: this.refuseUntil(session.revokedAt!, session.accessExpiresAt).toISOString() })),
      suspended: suspended.map((row) => ({ accountId: row.account_id, principalType: 'user', principalId: row.user_id })),
      secondStepAccounts: secondStep.map((row) => row.id),
      secondStepLost,
      next:
        moreRevoked || moreSuspended || moreSecondStep || moreSecondStepLost
          ? {
              revokedAfter: moreRevoked ? revoked[revoked.length - 1].id : MAX_UUID,
              suspendedAfter: moreSuspended ? `${lastSuspended.account_id}:${lastSuspended.user_id}` : `${MAX_UUID}:${MAX_UUID}`,
              ...(moreSecondStep && { secondStepAfter: secondStep[secondStep.length - 1].id }),
              ...(moreSecondStepLost && { secondStepLostAfter: secondStepLost[secondStepLost.length - 1].id }),
            }
          : null,
    };
  }

  /**
   * One page (after the session `after`) of the sessions whose login's second step was turned off
   * while their access tokens that say it was passed may still be valid (lost after `since`), with
   * until when: as for an ended session ({@link refuseUntil}).
   */
  private async sessionsThatLostSecondStep(after: string, since: Date, now: Date): Promise<RevokedSession[]> {
    const rows: Array<{ id: string; lost_at: Date; access_expires_at: Date | null }> = await this.dataSource.query(
      `SELECT id, second_step_lost_at AS lost_at, access_expires_at FROM sessions
        WHERE second_step_lost_at > $1 AND id > $2
          AND greatest(second_step_lost_at + make_interval(secs => $3), access_expires_at) > $4
        ORDER BY id LIMIT $5`,
      [since, after, this.config.ACCESS_TOKEN_TTL_SECONDS, new Date(now.getTime() - SKEW_MS), GATE_STATE_PAGE_SIZE],
    );
    return rows.map((row) => ({ id: row.id, until: this.refuseUntil(row.lost_at, row.access_expires_at).toISOString() }));
  }

  private async end(unit: UnitOfWork, sessions: Array<Pick<SessionEntity, 'id'>>, reason: SessionEndReason): Promise<RevokedSession[]> {
    if (sessions.length === 0) return [];
    const now = this.clock.now();
    const ids = sessions.map((session) => session.id);
    // RETURNING reads each row as the UPDATE locked it: a refresh that committed first has recorded its token's expiry.
    const [rows] = await unit.manager.query<[Array<{ id: string; access_expires_at: Date | null }>, number]>(
      'UPDATE sessions SET revoked_at = $1, end_reason = $2 WHERE id = ANY($3::uuid[]) AND revoked_at IS NULL RETURNING id, access_expires_at',
      [now, reason, ids],
    );
    const lastTokens = new Map(rows.map((row) => [row.id, row.access_expires_at]));
    const revoked = ids.map((id) => ({ id, until: this.refuseUntil(now, lastTokens.get(id) ?? null).toISOString() }));
    this.broadcaster.sessionsRevoked(unit, revoked);
    return revoked;
  }

  /** A refresh token presented again after its exchange proves a leak: its session ends (S1), audited. Any other token changes nothing. */
  private async endIfRetired(unit: UnitOfWork, hash: string, ip: string): Promise<void> {
    const retired = await unit.manager.findOne(RetiredRefreshTokenEntity, { where: { tokenHash: hash } });
    if (!retired) return;
    const session = await unit.manager.findOne(SessionEntity, { where: { id: retired.sessionId }, lock: { mode: 'pessimistic_write' } });
    if (!session || session.revokedAt) return;
    await this.end(unit, [session], 'refresh-reused');
    await this.audit.record(unit.manager, {
      accountIds: await this.auditAccounts(unit.manager, ownerOf(session)),
      action: 'session.refresh-reused',
      target: ownerOf(session),
      ip,
      details: { sessionId: session.id },
    });
  }

  private async auditEnded(unit: UnitOfWork, actor: Principal, target: Principal, ip: string, reason: SessionEndReason, count: number): Promise<void> {
    await this.recordEnded(unit, await this.auditAccounts(unit.manager, target), actor, target, ip, reason, count);
  }

  private async recordEnded(
    unit: UnitOfWork,
    accountIds: string[],
    actor: Principal,
    target: Principal,
    ip: string,
    reason: SessionEndReason,
    count: number,
  ): Promise<void> {
    await this.audit.record(unit.manager, {
      accountIds,
      action: 'sessions.ended',
      actor: principalOf(actor),
      target: principalOf(target),
      ip,
      details: { reason, count },
    });
  }

  private auditAccounts(manager: EntityManager, principal: Principal): Promise<string[]> {
    return activeAccountsOf(manager, principal);
  }

  /**
   * Until when a session ended at `revokedAt` is refused: until its last access token expires
   * (`lastTokenExpiresAt`, issued perhaps with a longer lifetime than today's, before
   * ACCESS_TOKEN_TTL_SECONDS was shortened), and at least for today's lifetime (a token whose
   * expiry the row does not hold: issued before it kept one), with clock skew allowed.
   */
  private refuseUntil(revokedAt: Date, lastTokenExpiresAt: Date | null): Date {
    const todays = revokedAt.getTime() + this.config.ACCESS_TOKEN_TTL_SECONDS * 1000;
    return new Date(Math.max(todays, lastTokenExpiresAt?.getTime() ?? 0) + SKEW_MS);
  }

  private lifetimeMs(principal: Principal): number {
    return principal.type === 'subuser' ? this.config.SUBUSER_SESSION_TTL_HOURS * 3600_000 : this.config.REFRESH_TOKEN_TTL_DAYS * 86_400_000;
  }

  private pair(session: SessionEntity, refreshToken: string, times: TokenTimes): TokenPairView {
    return { accessToken: this.accessToken(session, times), refreshToken, expiresIn: times.exp - times.iat, tokenType: 'Bearer' };
  }

  /** The times of an access token issued now for `session`: it never outlives the session (S5). */
  private tokenTimes(session: SessionEntity): TokenTimes {
    const now = this.clock.now().getTime();
    const left = Math.floor((session.expiresAt.getTime() - now) / 1000);
    const iat = Math.floor(now / 1000);
    return { iat, exp: iat + Math.max(0, Math.min(this.config.ACCESS_TOKEN_TTL_SECONDS, left)) };
  }

  private accessToken(session: SessionEntity, times: TokenTimes): string {
    const { kid, privateKey } = this.keys.signingKey();
    return signAccessToken(
      {
        claims: {
          sub: session.principalId,
          pty: session.principalType,
          sid: session.id,
          typ: 'access',
          amr: authenticationMethods(session.secondStepPassed),
        },
        issuer: this.config.JWT_ISSUER,
        audience: this.config.JWT_AUDIENCE,
        issuedAt: times.iat,
        expiresAt: times.exp,
      },
      privateKey,
      kid,
    );
  }
}

function ownerOf(session: SessionEntity): Principal {
  return { type: session.principalType, id: session.principalId };
}

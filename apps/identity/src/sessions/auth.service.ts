import { Inject, Injectable, type BeforeApplicationShutdown } from '@nestjs/common';
import type { Logger } from 'pino';
import { DataSource, type EntityManager } from 'typeorm';
import type { ActivateRequest, LoginRequest, Principal, SecondStepRequest, SecondStepView, SubuserLoginRequest, TokenPairView } from '#libs/contracts/index.js';
import { DomainError, ErrorCode } from '#libs/errors/index.js';
import { OutboxRelay, OutboxWriter } from '#libs/outbox/index.js';
import { Clock, CONFIG, LOGGER } from '#libs/platform/index.js';
import { preparedQuery } from '#libs/platform/storage.js';
import type { IdentityConfig } from '../identity.config.js';
import { AuditService } from '../audit/audit.service.js';
import { ActionTokensService, invalidLink } from '../credentials/action-tokens.service.js';
import { PasswordHasher } from '../credentials/password-hasher.js';
import { PasswordsService } from '../credentials/passwords.service.js';
import { loadProfile } from '../credentials/principal-profile.js';
import { ThrottleService, verdictOf, type ThrottleKey, type ThrottleVerdict } from '../credentials/throttle.service.js';
import { secondFactorKeys, subuserSignInKeys, tooManyAttempts, userSignInKeys } from '../credentials/throttle-keys.js';
import { mayActivate } from '../credentials/token-rules.js';
import { Transactions, type UnitOfWork } from '../database/unit-of-work.js';
import { FactorSecrets } from '../mfa/factor-secrets.js';
import { tellOfRecoveryCodeSignIn } from '../mfa/recovery-code-notice.js';
import { countWrongSignInCode, secondStepBlocked } from '../mfa/second-step-block.js';
import { assertCheckable, findFactor, isUsedCode, readTypedCode, useSecondFactor, type TypedCode } from '../mfa/totp-factors.js';
import { SubuserEntity } from '../subusers/subuser.entity.js';
import { UserEntity } from '../users/user.entity.js';
import { activeAccountsOf } from './principal-state.js';
import { SessionsService } from './sessions.service.js';
import { InvitationsService } from '../users/invitations.service.js';
import { signInClientOf, userAgentDetails, type SignInClient } from './user-agent.js';
import { countSignIn, type SignInRefusal } from './sign-in-metrics.js';
import { setTimeout as sleep } from 'node:timers/promises';

/** A login that may or may not exist, as found for a sign-in attempt. */
interface Candidate {
  principal: Principal;
  passwordHash: string | null;
  /** Whether it may sign in at all (activated, active somewhere). */
  usable: boolean;
  /** Accounts whose audit trail shows a sign-in (where it works). */
  accountIds: string[];
  /**
   * Accounts whose audit trail shows a refused attempt: where it works, and where a person was
   * deactivated; none for a person who never set a password (the inviting account would learn from
   * it whether the address had a login elsewhere, B2), nor an account waiting for their consent.
   */
  refusalAccountIds: string[];
  /** The account a subuser session belongs to. */
  sessionAccountId: string | null;
  /** Whether the password is only the first step (an authenticator is on). */
  secondStep: boolean;
}

/** Thrown in the second step's transaction when the login is no longer as a sign-in needs: it rolls back what the step used up. */
class LoginChanged extends Error {}

/** A refused challenge, said as a sign-in's: INVALID_TOKEN with its own message; anything else as it is. */
function asChallengeError(error: unknown): unknown {
  return error instanceof DomainError && error.code === ErrorCode.InvalidToken ? new DomainError(ErrorCode.InvalidToken, INVALID_CHALLENGE) : error;
}

const WRONG_USER_LOGIN = 'E-mail or password is incorrect';
const WRONG_SUBUSER_LOGIN = 'Account, login or password is incorrect';
const WRONG_CODE = 'The code is incorrect or was already used';
const INVALID_CHALLENGE = 'This sign-in has expired; sign in again';
/** Sign-in challenges one login may have waiting for a code at once (each new one voids the oldest beyond). */
const LIVE_CHALLENGES = 10;

/** How long after a refused sign-in's answer its audit row is written (see recordRefusal). */
const REFUSAL_AUDIT_DELAY_MS = 100;

/**
 * Sign-in of users and subusers, and activation. Every attempt is charged to the throttling
 * counters before the password is checked; an unknown login costs a dummy argon2 verification and
 * answers exactly like a wrong password (B1, B2). Every success and failure is audited (B4).
 */
@Injectable()
export class AuthService implements BeforeApplicationShutdown {
  /** Audit rows of refused sign-ins still being written (see {@link recordRefusal}). */
  private readonly refusalsBeingRecorded = new Set<Promise<void>>();

  constructor(
    private readonly dataSource: DataSource,
    private readonly transactions: Transactions,
    private readonly tokens: ActionTokensService,
    private readonly hasher: PasswordHasher,
    private readonly passwords: PasswordsService,
    private readonly sessions: SessionsService,
    private readonly secrets: FactorSecrets,
    private readonly throttle: ThrottleService,
    private readonly audit: AuditService,
    private readonly clock: Clock,
    @Inject(CONFIG) private readonly config: Pick<IdentityConfig, 'MFA_CHALLENGE_TTL_MINUTES' | 'MFA_BLOCK_AFTER_WRONG_CODES'>,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly invitations: InvitationsService,
    private readonly outbox: OutboxWriter,
    private readonly relay: OutboxRelay,
  ) {}

  /** E-mail + password -> a new session (or, with an authenticator on, the second step). A person needs an active membership somewhere. */
  async login({ body, client }: LoginRequest, userAgent?: string): Promise<TokenPairView | SecondStepView> {
    const keys = userSignInKeys(body.email, client.ip);
    return this.signIn(keys, userLookup(body.email), body.password, signInClientOf(client.ip, userAgent), WRONG_USER_LOGIN);
  }

  /** Account slug + login + password -> a subuser session bound to that account, with its own (shorter) lifetime. */
  async subuserLogin({ body, client }: SubuserLoginRequest, userAgent?: string): Promise<TokenPairView | SecondStepView> {
    const keys = subuserSignInKeys(body.account, body.login, client.ip);
    return this.signIn(keys, subuserLookup(body.account, body.login), body.password, signInClientOf(client.ip, userAgent), WRONG_SUBUSER_LOGIN);
  }

  /** Sets the first password from an activation token (as {@link mayActivate} allows); the principal becomes active. No automatic sign-in. */
  async activate({ body, client }: ActivateRequest): Promise<{ activated: true }> {
    const passwordHash = await this.passwords.hashForLink(body.token, 'activation', body.password, mayActivate);
    await this.transactions.run(async (unit) => {
      const token = await this.tokens.consumeLocked(unit.manager, body.token, 'activation');
      // The link's account is joined below if its membership waits (activating is the consent): the password is judged as of then.
      const profile = await loadProfile(unit.manager, token.owner, token.accountId);
      // Every path that sets a password voids the links, and a deactivation its account's; the checks are a second guard,
      // so that a live activation link can never replace the password of someone already active, nor serve an account that withdrew it.
      if (!profile || !mayActivate(profile, token.accountId)) throw invalidLink();
      this.passwords.assertAcceptable(profile, body.password);
      await unit.manager.update(token.owner.type === 'user' ? UserEntity : SubuserEntity, { id: token.owner.id }, { passwordHash, status: 'active' });
      if (token.owner.type === 'user' && token.accountId)
        await this.invitations.joinIfWaiting(unit, { accountId: token.accountId, userId: token.owner.id }, client.ip);
      await this.tokens.voidAll(unit.manager, token.owner);
      await this.audit.record(unit.manager, {
        accountIds: token.accountId ? [token.accountId] : profile.activeAccountIds,
        action: token.owner.type === 'user' ? 'user.activated' : 'subuser.activated',
        actor: token.owner,
        target: token.owner,
        ip: client.ip,
      });
    });
    return { activated: true };
  }

  /**
   * `POST /v1/auth/mfa`: the challenge of the password step and a code -> a new session. A wrong
   * code leaves the challenge as it was (to type again, within its lifetime) and counts on the
   * principal's second-factor counters. The right one uses up the code and the challenge and opens
   * the session in one transaction, the principal's row locked first (as every flow that uses a
   * link locks it): if the login is no longer as a sign-in needs (deactivated, removed, its
   * password changed), nothing is used up and the challenge is refused. While the second step is
   * blocked (too many wrong codes within 30 days: {@link countWrongSignInCode}), every code, the right one
   * too, is refused with 423 SECOND_STEP_BLOCKED, charged to the second-factor throttle as any attempt.
   */
  async secondStep({ body, client: request }: SecondStepRequest, userAgent?: string): Promise<TokenPairView> {
    const client = signInClientOf(request.ip, userAgent);
    const principal = await this.challengeOwner(body.challenge);
    const factor = await findFactor(this.dataSource.manager, principal);
    // A replica that cannot read the secret answers 503 before the code is counted (not for a blocked one: it reads no code).
    if (factor && !factor.blockedAt) assertCheckable(factor, body.code, this.secrets);
    const keys = secondFactorKeys(principal.id, client.ip);
    const verdict = await this.throttle.reserve(keys);
    if (!verdict.allowed) {
      await this.recordSecondStepFailure(principal, client, 'login.throttled', 'throttled');
      throw tooManyAttempts(verdict.retryAfterMs);
    }
    // Refused after the throttle: a challenge a blocked second step does not use up, sent again and again, is slowed like any guess.
    if (factor?.blockedAt) return this.refuseBlocked(principal, client);
    // A recovery code's hash (slow) is made before the transaction, so that no lock waits on it.
    const typed: TypedCode = factor ? await readTypedCode(factor.id, body.code) : { kind: 'none' };
    const outcome = await this.transactions
      .run((unit) => this.passSecondStep(unit, principal, body.challenge, typed, keys, client))
      .catch((error: unknown) => {
        if (error instanceof LoginChanged) return 'changed' as const;
        throw error;
      });
    if (outcome === 'changed') {
      await this.recordSecondStepFailure(principal, client, 'login.failed', 'changed-during-sign-in');
      throw new DomainError(ErrorCode.InvalidToken, INVALID_CHALLENGE);
    }
    if (outcome === 'blocked') return this.refuseBlocked(principal, client);
    if (outcome === 'used-code' || outcome === 'wrong-code' || outcome === 'wrong-code-blocked') {
      await this.recordSecondStepFailure(principal, client, 'login.second-step-failed', outcome === 'used-code' ? 'used-code' : 'wrong-code');
      if (outcome === 'wrong-code-blocked') throw secondStepBlocked();
      throw new DomainError(ErrorCode.InvalidCredentials, WRONG_CODE);
    }
    countSignIn('succeeded');
    return outcome;
  }

  /** Refuses a sign-in whose second step is blocked (audited `login.failed`, reason `second-step-blocked`). */
  private async refuseBlocked(principal: Principal, client: SignInClient): Promise<never> {
    await this.recordSecondStepFailure(principal, client, 'login.failed', 'second-step-blocked');
    throw secondStepBlocked();
  }

  /** Whose sign-in a challenge carries on, or INVALID_TOKEN (unknown, used, voided by a password change, expired). */
  private async challengeOwner(challenge: string): Promise<Principal> {
    try {
      return await this.tokens.peek(this.dataSource.manager, challenge, 'sign-in');
    } catch (error) {
      throw asChallengeError(error);
    }
  }

  /**
   * The second step's transaction: the principal locked, then its factor; the code used up, then
   * the challenge; then the session opened in the same transaction, or {@link LoginChanged} (thrown,
   * so that the code and the challenge are not used up). A wrong code is counted (and may block the
   * second step: `wrong-code-blocked`); a right one leaves the count as it is (it starts afresh only
   * with its window), and so does one already used (`used-code`: a form sent twice, or two sign-ins
   * racing with the owner's one code, refused as a wrong code is but no guess); a blocked second
   * step takes no code at all (`blocked`). A sign-in with a recovery code queues, with its session,
   * the notice to the login's e-mail ({@link tellOfRecoveryCodeSignIn}).
   */
  private async passSecondStep(
    unit: UnitOfWork,
    principal: Principal,
    challenge: string,
    typed: TypedCode,
    keys: ThrottleKey[],
    client: SignInClient,
  ): Promise<TokenPairView | 'wrong-code' | 'wrong-code-blocked' | 'used-code' | 'blocked'> {
    const { manager } = unit;
    // The principal's row locked first (as every flow on a principal and its links locks it), its password hash read with it.
    const [row] = await manager.query<Array<{ password_hash: string | null }>>(
      `SELECT password_hash FROM ${principal.type === 'user' ? 'users' : 'subusers'} WHERE id = $1 FOR NO KEY UPDATE`,
      [principal.id],
    );
    const factor = await findFactor(manager, principal, true);
    // Turned off since the password step: the challenge asked for a factor that is gone; sign in again.
    if (!factor?.confirmedAt) throw new DomainError(ErrorCode.InvalidToken, INVALID_CHALLENGE);
    // Blocked since the code was read (a wrong code of another request made the count).
    if (factor.blockedAt) return 'blocked';
    // Set up anew since the recovery code was hashed (for the factor then): the challenge asked for one that is gone.
    if (typed.kind === 'recovery-code' && typed.factorId !== factor.id) throw new DomainError(ErrorCode.InvalidToken, INVALID_CHALLENGE);
    const method = await useSecondFactor(manager, factor, typed, this.clock.now(), this.secrets);
    if (method === null && (await isUsedCode(manager, factor, typed, this.clock.now(), this.secrets))) return 'used-code';
    if (method === null) {
      const deps = { tokens: this.tokens, audit: this.audit, outbox: this.outbox, clock: this.clock };
      const counted = await countWrongSignInCode(deps, manager, principal, factor, this.config.MFA_BLOCK_AFTER_WRONG_CODES, client.ip);
      if (!counted.blocked) return 'wrong-code';
      if (counted.told) unit.afterCommit(() => this.relay.nudge());
      return 'wrong-code-blocked';
    }
    const link = await this.tokens.consume(manager, challenge, 'sign-in').catch((error: unknown) => {
      throw asChallengeError(error);
    });
    const audit = {
      accountIds: await activeAccountsOf(manager, principal),
      action: 'login.succeeded',
      actor: principal,
      target: principal,
      ip: client.ip,
      details: { secondFactor: method, ...userAgentDetails(client) },
    } as const;
    const pair = row?.password_hash
      ? await this.sessions.openAtSignIn(
          {
            principal,
            seenPasswordHash: row.password_hash,
            accountId: link.accountId,
            client,
            audit,
            alongside: (first, onlyIf) => this.throttle.succeededStatement(keys, first, onlyIf),
            secondStepPassed: true,
          },
          unit,
        )
      : null;
    if (!pair) throw new LoginChanged();
    const told =
      method === 'recovery-code' && (await tellOfRecoveryCodeSignIn({ outbox: this.outbox, clock: this.clock }, manager, principal, factor.id, client));
    if (told) unit.afterCommit(() => this.relay.nudge());
    return pair;
  }

  private async recordSecondStepFailure(
    principal: Principal,
    client: SignInClient,
    action: 'login.failed' | 'login.throttled' | 'login.second-step-failed',
    reason: SignInRefusal,
  ): Promise<void> {
    countSignIn(reason);
    const accountIds = await activeAccountsOf(this.dataSource.manager, principal);
    await this.audit.record(null, { accountIds, action, target: principal, ip: client.ip, details: { reason, step: 'second', ...userAgentDetails(client) } });
  }

  private async signIn(
    keys: ThrottleKey[],
    lookup: CandidateLookup,
    password: string,
    client: SignInClient,
    wrong: string,
  ): Promise<TokenPairView | SecondStepView> {
    const { verdict, candidate } = await this.chargeAndFind(keys, lookup);
    if (!verdict.allowed) {
      this.recordRefusal(candidate, client, 'login.throttled', 'throttled');
      throw tooManyAttempts(verdict.retryAfterMs);
    }
    const matches = await this.hasher.verify(candidate?.usable ? candidate.passwordHash : null, password);
    if (!candidate || !matches) {
      this.recordRefusal(candidate, client, 'login.failed', !candidate ? 'unknown-login' : candidate.usable ? 'wrong-password' : 'not-allowed');
      throw new DomainError(ErrorCode.InvalidCredentials, wrong);
    }
    const { principal } = candidate;
    if (candidate.secondStep) return this.startSecondStep(candidate, keys, client, wrong);
    // The counters start afresh in the statement that opens the session (one round trip fewer).
    const audit = {
      accountIds: candidate.accountIds,
      action: 'login.succeeded',
      actor: principal,
      target: principal,
      ip: client.ip,
      details: userAgentDetails(client),
    } as const;
    const pair = await this.sessions.openAtSignIn({
      principal,
      seenPasswordHash: candidate.passwordHash!,
      accountId: candidate.sessionAccountId,
      client,
      audit,
      alongside: (first, onlyIf) => this.throttle.succeededStatement(keys, first, onlyIf),
      secondStepPassed: false,
    });
    if (pair) {
      countSignIn('succeeded');
      return pair;
    }
    // A reset, password change, deactivation or removal committed while the password was checked: a failure like any other.
    this.recordRefusal(candidate, client, 'login.failed', 'changed-during-sign-in');
    throw new DomainError(ErrorCode.InvalidCredentials, wrong);
  }

  /**
   * The password was right and an authenticator is on: no session yet, but a challenge (single
   * use, MFA_CHALLENGE_TTL_MINUTES) to send with the code. Issued only if the login is still as the
   * sign-in found it, its row locked (a reset committed meanwhile voids links: a challenge made
   * after it would survive it). The password's counters start afresh (it was right); the code's
   * are the principal's own. While its second step is blocked, no challenge: 423 SECOND_STEP_BLOCKED.
   */
  private async startSecondStep(candidate: Candidate, keys: ThrottleKey[], client: SignInClient, wrong: string): Promise<SecondStepView> {
    const { principal } = candidate;
    const issued = await this.transactions.run(async (unit) => {
      if (!(await stillAsFound(unit.manager, candidate))) return null;
      if ((await findFactor(unit.manager, principal))?.blockedAt) return 'blocked' as const;
      await this.tokens.keepNewest(unit.manager, principal, 'sign-in', LIVE_CHALLENGES - 1);
      const challenge = await this.tokens.issue(unit.manager, principal, candidate.sessionAccountId, 'sign-in');
      await this.audit.record(unit.manager, {
        accountIds: candidate.accountIds,
        action: 'login.second-step-required',
        actor: principal,
        target: principal,
        ip: client.ip,
        details: userAgentDetails(client),
      });
      return challenge;
    });
    if (!issued) {
      this.recordRefusal(candidate, client, 'login.failed', 'changed-during-sign-in');
      throw new DomainError(ErrorCode.InvalidCredentials, wrong);
    }
    await this.throttle.succeeded(keys);
    if (issued === 'blocked') {
      this.recordRefusal(candidate, client, 'login.failed', 'second-step-blocked');
      throw secondStepBlocked();
    }
    countSignIn('second-step-required');
    return { mfaRequired: true, challenge: issued.token, expiresIn: this.config.MFA_CHALLENGE_TTL_MINUTES * 60, methods: ['totp', 'recovery-code'] };
  }

  /**
   * Audits a refused sign-in without waiting for the row, which is written once the answer has
   * gone ({@link REFUSAL_AUDIT_DELAY_MS} later), so that its time cannot tell a known login (an
   * audit row) from an unknown one (a log line) (B2); a throttled answer, which checks no password,
   * took one round trip longer for a known login. A write that fails is logged; a graceful stop
   * waits for those under way.
   */
  private recordRefusal(candidate: Candidate | null, client: SignInClient, action: 'login.failed' | 'login.throttled', reason: SignInRefusal): void {
    countSignIn(reason);
    const { ip } = client;
    const auditDetails = userAgentDetails(client);
    if (!candidate) {
      // Nobody to show it to: a log line (without what was typed) rather than an audit row per guess.
      this.logger.info({ ip, ...auditDetails, action, reason }, 'Sign-in refused for an unknown login');
      return;
    }
    const entry = { accountIds: candidate.refusalAccountIds, action, target: candidate.principal, ip, details: { reason, ...auditDetails } };
    // Started a little later: PostgreSQL writing the row would otherwise share the two CPUs with the answer on its way.
    const written: Promise<void> = sleep(REFUSAL_AUDIT_DELAY_MS)
      .then(() => this.audit.record(null, entry))
      .catch((error: unknown) => this.logger.error({ err: error, action, target: candidate.principal }, 'Could not audit a refused sign-in'))
      .finally(() => this.refusalsBeingRecorded.delete(written));
    this.refusalsBeingRecorded.add(written);
  }

  /** Resolves once the audit rows of the sign-ins refused so far are written (or their failure logged). */
  async refusalsRecorded(): Promise<void> {
    await Promise.all([...this.refusalsBeingRecorded]);
  }

  /** Before the database closes (TypeORM closes it on application shutdown). */
  async beforeApplicationShutdown(): Promise<void> {
    await this.refusalsRecorded();
  }

  /**
   * Charges the attempt to the throttling counters and looks the login up, in one statement (one
   * round trip): the lookup runs whatever the verdict, so that a throttled attempt is audited on
   * the login it was aimed at.
   */
  private async chargeAndFind(keys: ThrottleKey[], lookup: CandidateLookup): Promise<{ verdict: ThrottleVerdict; candidate: Candidate | null }> {
    const charge = this.throttle.reserveExpression(keys, lookup.parameters.length + 1);
    const [row] = await preparedQuery<CandidateRow & { wait: string }>(
      this.dataSource,
      `WITH charged AS (SELECT ${charge.sql} AS wait)
       SELECT charged.wait, found.* FROM charged LEFT JOIN LATERAL (${lookup.sql}) AS found ON true`,
      [...lookup.parameters, ...charge.parameters],
    );
    return { verdict: verdictOf(row.wait), candidate: row.id === null ? null : lookup.read(row) };
  }
}

/** What a sign-in's lookup returns: the login's row (all null when there is none). */
interface CandidateRow {
  id: string | null;
  password_hash: string | null;
  status: string | null;
  active: boolean;
  account_ids: string[];
  refusal_account_ids: string[];
  second_step: boolean;
}

/** A sign-in's lookup of its login: one SELECT (parameters from $1) and how its row reads. */
interface CandidateLookup {
  sql: string;
  parameters: unknown[];
  read(row: CandidateRow): Candidate;
}

/**
 * A person by e-mail, with the accounts where they are active members (they need one to sign in).
 * Found as the unique column folds it (PostgreSQL's `lower()`, whatever the database's locale:
 * under `LC_CTYPE=C` it folds ASCII only, and a JavaScript-folded string would miss `É`); the
 * throttling counter is keyed by `emailKey`, which folds at least as much, so every spelling
 * of one login charges one counter.
 */
function userLookup(email: string): CandidateLookup {
  return {
    sql: `SELECT u.id, u.password_hash, u.status, true AS active,
                 coalesce(array_agg(m.account_id) FILTER (WHERE m.active), '{}') AS account_ids,
                 CASE WHEN u.status = 'active' THEN coalesce(array_agg(m.account_id) FILTER (WHERE m.active OR NOT EXISTS (
                   SELECT 1 FROM membership_invitations i WHERE i.account_id = m.account_id AND i.user_id = m.user_id)), '{}')
                 ELSE '{}' END AS refusal_account_ids,
                 u.second_step
            FROM users u LEFT JOIN memberships m ON m.user_id = u.id
           WHERE u.email_lower = lower($1)
           GROUP BY u.id`,
    parameters: [email],
    read: (row) => ({
      principal: { type: 'user', id: row.id! },
      passwordHash: row.password_hash,
      usable: row.status === 'active' && row.account_ids.length > 0,
      accountIds: row.account_ids,
      refusalAccountIds: row.refusal_account_ids,
      sessionAccountId: null,
      secondStep: row.second_step,
    }),
  };
}

/** A subuser by its account's slug and its login (both compared lower-cased). */
function subuserLookup(slug: string, login: string): CandidateLookup {
  return {
    sql: `SELECT s.id, s.password_hash, s.status, s.active, ARRAY[a.id] AS account_ids, ARRAY[a.id] AS refusal_account_ids, s.second_step
            FROM accounts a JOIN subusers s ON s.account_id = a.id AND s.login = $2
           WHERE a.slug = $1`,
    parameters: [slug.toLowerCase(), login.toLowerCase()],
    read: (row) => ({
      principal: { type: 'subuser', id: row.id! },
      passwordHash: row.password_hash,
      usable: row.status === 'active' && row.active,
      accountIds: row.account_ids,
      refusalAccountIds: row.refusal_account_ids,
      sessionAccountId: row.account_ids[0],
      secondStep: row.second_step,
    }),
  };
}

/**
 * Locks the candidate's row (FOR NO KEY UPDATE, as a reset's UPDATE would) and says whether it is
 * still as the sign-in found it: the password checked, active, and (a person) an active member
 * somewhere.
 */
async function stillAsFound(manager: EntityManager, candidate: Candidate): Promise<boolean> {
  const sql =
    candidate.principal.type === 'user'
      ? `SELECT 1 FROM users u WHERE u.id = $1 AND u.password_hash = $2 AND u.status = 'active'
           AND EXISTS (SELECT 1 FROM memberships m WHERE m.user_id = u.id AND m.active) FOR NO KEY UPDATE OF u`
      : `SELECT 1 FROM subusers WHERE id = $1 AND password_hash = $2 AND status = 'active' AND active FOR NO KEY UPDATE`;
  const rows = await manager.query<unknown[]>(sql, [candidate.principal.id, candidate.passwordHash]);
  return rows.length > 0;
}

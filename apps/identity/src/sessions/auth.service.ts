import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import type { ActivateRequest, LoginRequest, Principal, SubuserLoginRequest, TokenPairView } from '#libs/contracts/index.js';
import { DomainError, ErrorCode } from '#libs/errors/index.js';
import { Clock, LOGGER, preparedQuery } from '#libs/platform/index.js';
import { AuditService } from '../audit/audit.service.js';
import { ActionTokensService } from '../credentials/action-tokens.service.js';
import { PasswordHasher } from '../credentials/password-hasher.js';
import { PasswordsService } from '../credentials/passwords.service.js';
import { loadProfile, type PrincipalProfile } from '../credentials/principal-profile.js';
import { ThrottleService, verdictOf, type ThrottleKey, type ThrottleVerdict } from '../credentials/throttle.service.js';
import { subuserSignInKeys, tooManyAttempts, userSignInKeys } from '../credentials/throttle-keys.js';
import { Transactions } from '../database/unit-of-work.js';
import { SubuserEntity } from '../subusers/subuser.entity.js';
import { UserEntity } from '../users/user.entity.js';
import { SessionsService } from './sessions.service.js';

/** A login that may or may not exist, as found for a sign-in attempt. */
interface Candidate {
  principal: Principal;
  passwordHash: string | null;
  /** Whether it may sign in at all (activated, active somewhere). */
  usable: boolean;
  /** Accounts whose audit trail shows the attempt. */
  accountIds: string[];
  /** The account a subuser session belongs to. */
  sessionAccountId: string | null;
}

const WRONG_USER_LOGIN = 'E-mail or password is incorrect';
const WRONG_SUBUSER_LOGIN = 'Account, login or password is incorrect';

/**
 * Sign-in of users and subusers, and activation. Every attempt is charged to the throttling
 * counters before the password is checked; an unknown login costs a dummy argon2 verification and
 * answers exactly like a wrong password (B1, B2). Every success and failure is audited (B4).
 */
@Injectable()
export class AuthService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly transactions: Transactions,
    private readonly tokens: ActionTokensService,
    private readonly hasher: PasswordHasher,
    private readonly passwords: PasswordsService,
    private readonly sessions: SessionsService,
    private readonly throttle: ThrottleService,
    private readonly audit: AuditService,
    private readonly clock: Clock,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** E-mail + password -> a new session. A person needs an active membership somewhere. */
  async login({ body, client }: LoginRequest): Promise<TokenPairView> {
    const keys = userSignInKeys(body.email, client.ip);
    return this.signIn(keys, userLookup(body.email), body.password, client.ip, WRONG_USER_LOGIN);
  }

  /** Account slug + login + password -> a subuser session bound to that account, with its own (shorter) lifetime. */
  async subuserLogin({ body, client }: SubuserLoginRequest): Promise<TokenPairView> {
    const keys = subuserSignInKeys(body.account, body.login, client.ip);
    return this.signIn(keys, subuserLookup(body.account, body.login), body.password, client.ip, WRONG_SUBUSER_LOGIN);
  }

  /** Sets the first password from an activation token; the principal becomes active. No automatic sign-in. */
  async activate({ body, client }: ActivateRequest): Promise<{ activated: true }> {
    const passwordHash = await this.passwords.hashForLink(body.token, 'activation', body.password, isPending);
    await this.transactions.run(async (unit) => {
      const token = await this.tokens.consumeLocked(unit.manager, body.token, 'activation');
      const profile = await loadProfile(unit.manager, token.owner);
      // Every path that sets a password voids the links; the status check is a second guard, so that a live
      // activation link can never replace the password of someone already active.
      if (!profile || !isPending(profile)) throw new DomainError(ErrorCode.InvalidToken, 'This link is invalid or has expired; ask for a new one');
      this.passwords.assertAcceptable(profile, body.password);
      await unit.manager.update(token.owner.type === 'user' ? UserEntity : SubuserEntity, { id: token.owner.id }, { passwordHash, status: 'active' });
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

  private async signIn(keys: ThrottleKey[], lookup: CandidateLookup, password: string, ip: string, wrong: string): Promise<TokenPairView> {
    const { verdict, candidate } = await this.chargeAndFind(keys, lookup);
    if (!verdict.allowed) {
      await this.recordFailure(candidate, ip, 'login.throttled', 'throttled');
      throw tooManyAttempts(verdict.retryAfterMs);
    }
    const matches = await this.hasher.verify(candidate?.usable ? candidate.passwordHash : null, password);
    if (!candidate || !matches) {
      await this.recordFailure(candidate, ip, 'login.failed', !candidate ? 'unknown-login' : candidate.usable ? 'wrong-password' : 'not-allowed');
      throw new DomainError(ErrorCode.InvalidCredentials, wrong);
    }
    const { principal } = candidate;
    // The counters start afresh in the statement that opens the session (one round trip fewer).
    const audit = { accountIds: candidate.accountIds, action: 'login.succeeded', actor: principal, target: principal, ip } as const;
    const pair = await this.sessions.openAtSignIn(principal, candidate.passwordHash!, candidate.sessionAccountId, ip, audit, (first, onlyIf) =>
      this.throttle.succeededStatement(keys, first, onlyIf),
    );
    if (pair) return pair;
    // A reset, password change, deactivation or removal committed while the password was checked: a failure like any other.
    await this.recordFailure(candidate, ip, 'login.failed', 'changed-during-sign-in');
    throw new DomainError(ErrorCode.InvalidCredentials, wrong);
  }

  private async recordFailure(candidate: Candidate | null, ip: string, action: 'login.failed' | 'login.throttled', reason: string): Promise<void> {
    if (!candidate) {
      // Nobody to show it to: a log line (without what was typed) rather than an audit row per guess.
      this.logger.info({ ip, action, reason }, 'Sign-in refused for an unknown login');
      return;
    }
    await this.audit.record(null, { accountIds: candidate.accountIds, action, target: candidate.principal, ip, details: { reason } });
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
                 coalesce(array_agg(m.account_id) FILTER (WHERE m.active), '{}') AS account_ids
            FROM users u LEFT JOIN memberships m ON m.user_id = u.id
           WHERE u.email_lower = lower($1)
           GROUP BY u.id`,
    parameters: [email],
    read: (row) => ({
      principal: { type: 'user', id: row.id! },
      passwordHash: row.password_hash,
      usable: row.status === 'active' && row.account_ids.length > 0,
      accountIds: row.account_ids,
      sessionAccountId: null,
    }),
  };
}

/** A subuser by its account's slug and its login (both compared lower-cased). */
function subuserLookup(slug: string, login: string): CandidateLookup {
  return {
    sql: `SELECT s.id, s.password_hash, s.status, s.active, ARRAY[a.id] AS account_ids
            FROM accounts a JOIN subusers s ON s.account_id = a.id AND s.login = $2
           WHERE a.slug = $1`,
    parameters: [slug.toLowerCase(), login.toLowerCase()],
    read: (row) => ({
      principal: { type: 'subuser', id: row.id! },
      passwordHash: row.password_hash,
      usable: row.status === 'active' && row.active,
      accountIds: row.account_ids,
      sessionAccountId: row.account_ids[0],
    }),
  };
}

/** Only a principal still waiting for its first password may be activated: a live link never replaces the password of someone active. */
function isPending(profile: Pick<PrincipalProfile, 'status'>): boolean {
  return profile.status === 'pending';
}

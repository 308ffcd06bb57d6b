import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import type { ActivateRequest, LoginRequest, Principal, SubuserLoginRequest, TokenPairView } from '#libs/contracts/index.js';
import { DomainError, ErrorCode } from '#libs/errors/index.js';
import { Clock, LOGGER } from '#libs/platform/index.js';
import { AccountEntity } from '../accounts/account.entity.js';
import { AuditService } from '../audit/audit.service.js';
import { ActionTokensService } from '../credentials/action-tokens.service.js';
import { PasswordHasher } from '../credentials/password-hasher.js';
import { PasswordsService } from '../credentials/passwords.service.js';
import { loadProfile } from '../credentials/principal-profile.js';
import { ThrottleService, type ThrottleKey } from '../credentials/throttle.service.js';
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
    return this.signIn(keys, () => this.findUser(body.email), body.password, client.ip, WRONG_USER_LOGIN);
  }

  /** Account slug + login + password -> a subuser session bound to that account, with its own (shorter) lifetime. */
  async subuserLogin({ body, client }: SubuserLoginRequest): Promise<TokenPairView> {
    const keys = subuserSignInKeys(body.account, body.login, client.ip);
    return this.signIn(keys, () => this.findSubuser(body.account, body.login), body.password, client.ip, WRONG_SUBUSER_LOGIN);
  }

  /** Sets the first password from an activation token; the principal becomes active. No automatic sign-in. */
  async activate({ body, client }: ActivateRequest): Promise<{ activated: true }> {
    await this.transactions.run(async (unit) => {
      const token = await this.tokens.consume(unit.manager, body.token, 'activation');
      const profile = await loadProfile(unit.manager, token.owner);
      if (!profile) throw new DomainError(ErrorCode.InvalidToken, 'This link is invalid or has expired; ask for a new one');
      this.passwords.assertAcceptable(profile, body.password);
      const passwordHash = await this.hasher.hash(body.password);
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

  private async signIn(keys: ThrottleKey[], find: () => Promise<Candidate | null>, password: string, ip: string, wrong: string): Promise<TokenPairView> {
    const verdict = await this.throttle.reserve(keys);
    const candidate = await find();
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
    return this.sessions.openAtSignIn(principal, candidate.sessionAccountId, ip, audit, (first) => this.throttle.succeededStatement(keys, first));
  }

  private async recordFailure(candidate: Candidate | null, ip: string, action: 'login.failed' | 'login.throttled', reason: string): Promise<void> {
    if (!candidate) {
      // Nobody to show it to: a log line (without what was typed) rather than an audit row per guess.
      this.logger.info({ ip, action, reason }, 'Sign-in refused for an unknown login');
      return;
    }
    await this.audit.record(null, { accountIds: candidate.accountIds, action, target: candidate.principal, ip, details: { reason } });
  }

  private async findUser(email: string): Promise<Candidate | null> {
    const rows: Array<{ id: string; password_hash: string | null; status: string; account_ids: string[] }> = await this.dataSource.query(
      `SELECT u.id, u.password_hash, u.status,
              coalesce(array_agg(m.account_id) FILTER (WHERE m.active), '{}') AS account_ids
         FROM users u LEFT JOIN memberships m ON m.user_id = u.id
        WHERE u.email_lower = lower($1)
        GROUP BY u.id`,
      [email],
    );
    if (rows.length === 0) return null;
    const [user] = rows;
    return {
      principal: { type: 'user', id: user.id },
      passwordHash: user.password_hash,
      usable: user.status === 'active' && user.account_ids.length > 0,
      accountIds: user.account_ids,
      sessionAccountId: null,
    };
  }

  private async findSubuser(slug: string, login: string): Promise<Candidate | null> {
    const account = await this.dataSource.getRepository(AccountEntity).findOne({ where: { slug: slug.toLowerCase() }, select: { id: true } });
    if (!account) return null;
    const subuser = await this.dataSource.getRepository(SubuserEntity).findOne({
      where: { accountId: account.id, login: login.toLowerCase() },
      select: { id: true, passwordHash: true, status: true, active: true },
    });
    if (!subuser) return null;
    return {
      principal: { type: 'subuser', id: subuser.id },
      passwordHash: subuser.passwordHash,
      usable: subuser.status === 'active' && subuser.active,
      accountIds: [account.id],
      sessionAccountId: account.id,
    };
  }
}

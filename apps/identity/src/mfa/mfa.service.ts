import { Inject, Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import type {
  Actor,
  ConfirmTotpRequest,
  MfaStatusView,
  Principal,
  RecoveryCodesView,
  SecondFactorChangeRequest,
  StartTotpRequest,
  TotpEnrolmentView,
} from '#libs/contracts/index.js';
import { principalOf } from '#libs/contracts/index.js';
import { DomainError, ErrorCode } from '#libs/errors/index.js';
import { Clock, CONFIG } from '#libs/platform/index.js';
import type { IdentityConfig } from '../identity.config.js';
import { AuditService } from '../audit/audit.service.js';
import { lockPrincipal } from '../credentials/action-tokens.service.js';
import { PasswordsService } from '../credentials/passwords.service.js';
import { lockUnchangedPassword, type PrincipalProfile } from '../credentials/principal-profile.js';
import { ThrottleService } from '../credentials/throttle.service.js';
import { secondFactorKeys, tooManyAttempts } from '../credentials/throttle-keys.js';
import { Transactions } from '../database/unit-of-work.js';
import { activeAccountsOf } from '../sessions/principal-state.js';
import { newRecoveryCodes } from './recovery-codes.js';
import { base32Encode, matchTotp, newTotpSecret, otpauthUri } from './totp.js';
import {
  confirmFactor,
  findFactor,
  recoveryCodesLeft,
  removeFactor,
  replaceRecoveryCodes,
  startFactor,
  useSecondFactor,
  type TotpFactor,
} from './totp-factors.js';

const WRONG_CODE = 'code is not a current code of your authenticator nor an unused recovery code';

/**
 * Two-step sign-in, as its owner sets it up: an authenticator app (TOTP) and recovery codes.
 * Setting it up needs the current password; turning it off or renewing the recovery codes needs
 * both factors (the password and a code), so that neither a stolen session nor a stolen password
 * alone can weaken it. Every code typed is throttled per principal like a password.
 */
@Injectable()
export class MfaService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly transactions: Transactions,
    private readonly passwords: PasswordsService,
    private readonly throttle: ThrottleService,
    private readonly audit: AuditService,
    private readonly clock: Clock,
    @Inject(CONFIG) private readonly config: Pick<IdentityConfig, 'MFA_ISSUER'>,
  ) {}

  /** `GET /v1/me/mfa`. */
  async status(actor: Actor): Promise<MfaStatusView> {
    const { manager } = this.dataSource;
    const factor = await findFactor(manager, principalOf(actor));
    if (!factor?.confirmedAt) return { enabled: false, enabledAt: null, recoveryCodesLeft: 0 };
    return { enabled: true, enabledAt: factor.confirmedAt.toISOString(), recoveryCodesLeft: await recoveryCodesLeft(manager, factor.id) };
  }

  /** `POST /v1/me/mfa/totp`: a new secret for the authenticator app, replacing a set-up never confirmed. 409 while one is on. */
  async startTotp({ actor, body, client }: StartTotpRequest): Promise<TotpEnrolmentView> {
    const profile = await this.passwords.checkCurrent(actor, body.currentPassword, client.ip, 'mfa.change-failed');
    const secret = newTotpSecret();
    await this.transactions.run(async (unit) => {
      await lockUnchangedPassword(unit.manager, profile);
      if ((await findFactor(unit.manager, profile.principal, true))?.confirmedAt)
        throw new DomainError(ErrorCode.Conflict, 'Two-step sign-in is already on; turn it off first to set up another authenticator');
      await startFactor(unit.manager, profile.principal, secret);
    });
    return { secret: base32Encode(secret), otpauthUri: otpauthUri(this.config.MFA_ISSUER, labelOf(profile), secret) };
  }

  /** `POST /v1/me/mfa/totp/confirm`: the app's first code turns two-step sign-in on; answers the recovery codes (shown this once). */
  async confirmTotp({ actor, body, client }: ConfirmTotpRequest): Promise<RecoveryCodesView> {
    const principal = principalOf(actor);
    await this.reserveCodeAttempt(principal, client.ip);
    const recoveryCodes = newRecoveryCodes();
    const confirmed = await this.transactions.run(async (unit) => {
      const factor = await this.lockedFactor(unit.manager, principal);
      if (!factor || factor.confirmedAt) throw new DomainError(ErrorCode.Conflict, 'Start setting up an authenticator first (POST /v1/me/mfa/totp)');
      const step = matchTotp(factor.secret, body.code, this.clock.now(), null);
      if (step === null) return false;
      await confirmFactor(unit.manager, factor.id, step);
      await replaceRecoveryCodes(unit.manager, factor.id, recoveryCodes);
      await this.audit.record(unit.manager, {
        accountIds: await activeAccountsOf(unit.manager, principal),
        action: 'mfa.enabled',
        actor: principal,
        target: principal,
        ip: client.ip,
      });
      return true;
    });
    await this.settleCodeAttempt(principal, client.ip, confirmed);
    return { recoveryCodes };
  }

  /** `POST /v1/me/mfa/disable`: the password and a code turn two-step sign-in off. */
  async disable(request: SecondFactorChangeRequest): Promise<{ disabled: true }> {
    await this.changeWithBothFactors(request, 'mfa.disabled', async (manager, principal) => {
      await removeFactor(manager, principal);
    });
    return { disabled: true };
  }

  /** `POST /v1/me/mfa/recovery-codes`: the password and a code replace every recovery code by a new set (shown this once). */
  async renewRecoveryCodes(request: SecondFactorChangeRequest): Promise<RecoveryCodesView> {
    const recoveryCodes = newRecoveryCodes();
    await this.changeWithBothFactors(request, 'mfa.recovery-codes-renewed', (manager, _principal, factor) =>
      replaceRecoveryCodes(manager, factor.id, recoveryCodes),
    );
    return { recoveryCodes };
  }

  /**
   * Checks the current password, then (throttled) the code against the caller's factor, and only
   * then runs `change` and audits `action`, all in one transaction with the principal locked and
   * its password still the one checked. 409 while two-step sign-in is off.
   */
  private async changeWithBothFactors(
    { actor, body, client }: SecondFactorChangeRequest,
    action: 'mfa.disabled' | 'mfa.recovery-codes-renewed',
    change: (manager: EntityManager, principal: Principal, factor: TotpFactor) => Promise<void>,
  ): Promise<void> {
    const profile = await this.passwords.checkCurrent(actor, body.currentPassword, client.ip, 'mfa.change-failed');
    const { principal } = profile;
    await this.reserveCodeAttempt(principal, client.ip);
    const passed = await this.transactions.run(async (unit) => {
      await lockUnchangedPassword(unit.manager, profile);
      const factor = await findFactor(unit.manager, principal, true);
      if (!factor?.confirmedAt) throw new DomainError(ErrorCode.Conflict, 'Two-step sign-in is off');
      const method = await useSecondFactor(unit.manager, factor, body.code, this.clock.now());
      if (method === null) return false;
      await change(unit.manager, principal, factor);
      await this.audit.record(unit.manager, {
        accountIds: profile.activeAccountIds,
        action,
        actor: principal,
        target: principal,
        ip: client.ip,
        details: { method },
      });
      return true;
    });
    await this.settleCodeAttempt(principal, client.ip, passed);
  }

  /** Charges a typed code to the principal's second-factor counters (429 while locked). */
  private async reserveCodeAttempt(principal: Principal, ip: string): Promise<void> {
    const verdict = await this.throttle.reserve(secondFactorKeys(principal.id, ip));
    if (!verdict.allowed) throw tooManyAttempts(verdict.retryAfterMs);
  }

  /** After a typed code: the counters start afresh when it was right; a wrong one is audited and refused naming `code`. */
  private async settleCodeAttempt(principal: Principal, ip: string, passed: boolean): Promise<void> {
    if (passed) return this.throttle.succeeded(secondFactorKeys(principal.id, ip));
    const accountIds = await activeAccountsOf(this.dataSource.manager, principal);
    await this.audit.record(null, { accountIds, action: 'mfa.change-failed', actor: principal, target: principal, ip, details: { reason: 'wrong-code' } });
    throw new DomainError(ErrorCode.ValidationFailed, WRONG_CODE, { field: 'code' });
  }

  /** The principal's factor, its row and the principal's locked (the principal first, as every credential flow locks). */
  private async lockedFactor(manager: EntityManager, principal: Principal): Promise<TotpFactor | null> {
    await lockPrincipal(manager, principal, 'FOR NO KEY UPDATE');
    return findFactor(manager, principal, true);
  }
}

/** How the authenticator app names the login: the e-mail of a person, `slug/login` for a subuser. */
function labelOf(profile: PrincipalProfile): string {
  return profile.principal.type === 'user' ? profile.email! : `${profile.accountSlug}/${profile.login}`;
}

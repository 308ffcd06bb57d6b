import { Inject, Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import type {
  Actor,
  AuditAction,
  ConfirmTotpRequest,
  MfaStatusView,
  Principal,
  RecoveryCodesView,
  SecondFactorChangeRequest,
  SecondStepChange,
  StartTotpRequest,
  TotpEnrolmentView,
} from '#libs/contracts/index.js';
import { principalOf } from '#libs/contracts/index.js';
import { DomainError, ErrorCode } from '#libs/errors/index.js';
import { OutboxRelay, OutboxWriter } from '#libs/outbox/index.js';
import { Clock, CONFIG } from '#libs/platform/index.js';
import type { IdentityConfig } from '../identity.config.js';
import { AuditService, type AuditDetails } from '../audit/audit.service.js';
import { ActionTokensService, lockPrincipal } from '../credentials/action-tokens.service.js';
import { PasswordsService } from '../credentials/passwords.service.js';
import { lockUnchangedPassword, type PrincipalProfile } from '../credentials/principal-profile.js';
import { ThrottleService } from '../credentials/throttle.service.js';
import { secondFactorKeys, tooManyAttempts } from '../credentials/throttle-keys.js';
import { Transactions, type UnitOfWork } from '../database/unit-of-work.js';
import { activeAccountsOf } from '../sessions/principal-state.js';
import { SessionsService } from '../sessions/sessions.service.js';
import { FactorSecrets } from './factor-secrets.js';
import { mfaStatusOf } from './mfa-status.js';
import { recordSecondStepChange, resetSecondStep, type SecondStepChangeDeps } from './second-step-changes.js';
import { hashRecoveryCodes, newRecoveryCodes } from './recovery-codes.js';
import { base32Encode, looksLikeTotp, matchTotp, newTotpSecret, otpauthUri } from './totp.js';
import {
  confirmFactor,
  findFactor,
  recoveryCodesLeft,
  turnFactorOff,
  type SessionLosingSecondStep,
  replaceRecoveryCodes,
  startFactor,
  useSecondFactor,
  assertCheckable,
  readTypedCode,
  type SecondFactorMethod,
  type TotpFactor,
  type TypedCode,
} from './totp-factors.js';

const WRONG_CODE = 'code is not a current code of your authenticator nor an unused recovery code';
/** While setting up, there are no recovery codes yet: only the app's code confirms it. */
const WRONG_SET_UP_CODE = 'code is not a current code of your authenticator app';
/** How long a set-up waits for its first code before it must be started again. */
const SET_UP_TTL_MS = 15 * 60_000;

/**
 * Two-step sign-in, as its owner sets it up: an authenticator app (TOTP) and recovery codes.
 * Setting it up needs the current password; turning it off, renewing the recovery codes, or any
 * other change the login guards while it is on (moving the login e-mail) needs both factors, so
 * that neither a stolen session nor a stolen password alone can weaken it. Every code typed is
 * throttled per principal like a password; a code is charged only when it can be checked (never
 * for a request refused anyway), so that a session alone cannot lock the owner's second step.
 * Every change mails a notice to the login's e-mail.
 */
@Injectable()
export class MfaService {
  private readonly nudgeRelay = () => this.relay.nudge();

  constructor(
    private readonly dataSource: DataSource,
    private readonly transactions: Transactions,
    private readonly passwords: PasswordsService,
    private readonly sessions: SessionsService,
    private readonly tokens: ActionTokensService,
    private readonly secrets: FactorSecrets,
    private readonly throttle: ThrottleService,
    private readonly outbox: OutboxWriter,
    private readonly relay: OutboxRelay,
    private readonly audit: AuditService,
    private readonly clock: Clock,
    @Inject(CONFIG) private readonly config: Pick<IdentityConfig, 'MFA_ISSUER'>,
  ) {}

  /** `GET /v1/me/mfa`: {@link mfaStatusOf} the caller's factor. */
  async status(actor: Actor): Promise<MfaStatusView> {
    const { manager } = this.dataSource;
    const factor = await findFactor(manager, principalOf(actor));
    return mfaStatusOf(factor, factor?.confirmedAt ? await recoveryCodesLeft(manager, factor.id) : 0);
  }

  /** `POST /v1/me/mfa/totp`: a new secret for the authenticator app, replacing a set-up never confirmed. 409 while one is on. */
  async startTotp({ actor, body, client }: StartTotpRequest): Promise<TotpEnrolmentView> {
    const profile = await this.passwords.checkCurrent(actor, body.currentPassword, client.ip, 'mfa.change-failed');
    const secret = newTotpSecret();
    await this.transactions.run(async (unit) => {
      await lockUnchangedPassword(unit.manager, profile);
      if ((await findFactor(unit.manager, profile.principal, true))?.confirmedAt)
        throw new DomainError(ErrorCode.Conflict, 'Two-step sign-in is already on; turn it off first to set up another authenticator');
      await startFactor(unit.manager, profile.principal, this.secrets.seal(secret), this.clock.now());
    });
    return { secret: base32Encode(secret), otpauthUri: otpauthUri(this.config.MFA_ISSUER, labelOf(profile), secret) };
  }

  /**
   * `POST /v1/me/mfa/totp/confirm`: the app's first code turns two-step sign-in on (within
   * 15 minutes of the start); every other session of the caller ends; answers the recovery codes
   * (shown this once). 409 when nothing is being set up.
   */
  async confirmTotp({ actor, body, client }: ConfirmTotpRequest): Promise<RecoveryCodesView> {
    const principal = principalOf(actor);
    const pending = await findFactor(this.dataSource.manager, principal);
    if (!isSettingUp(pending, this.clock.now())) throw notSettingUp();
    // Never the app's code: refused as wrong without costing an attempt, nor needing the secret.
    if (!looksLikeTotp(body.code))
      throw new DomainError(ErrorCode.ValidationFailed, 'code must be the 6 digits the authenticator app shows', { field: 'code' });
    assertCheckable(pending, body.code, this.secrets);
    await this.chargeCode(principal, client.ip);
    // A wrong code is refused here (settleCode throws) before any slow hash is made; the transaction checks again, and decides.
    if (matchTotp(this.secrets.open(pending.storedSecret), body.code, this.clock.now(), null) === null)
      await this.settleCode(principal, client.ip, false, 'mfa.change-failed', WRONG_SET_UP_CODE);
    const recoveryCodes = newRecoveryCodes();
    // Slow hashes, made before the transaction so that no lock waits on them.
    const recoveryHashes = await hashRecoveryCodes(pending.id, recoveryCodes);
    const confirmed = await this.transactions.run(async (unit) => {
      await lockPrincipal(unit.manager, principal, 'FOR NO KEY UPDATE');
      const factor = await findFactor(unit.manager, principal, true);
      if (!isSettingUp(factor, this.clock.now()) || factor.id !== pending.id) throw notSettingUp();
      const step = matchTotp(this.secrets.open(factor.storedSecret), body.code, this.clock.now(), null);
      if (step === null) return false;
      await confirmFactor(unit.manager, principal, factor.id, step, this.clock.now(), actor.sessionId);
      // Listed to the gateways as having lost it (turned off earlier while it was open): it counts again, at once.
      this.sessions.secondStepRegained(unit, actor.sessionId);
      await replaceRecoveryCodes(unit.manager, factor.id, recoveryHashes);
      // Who turns it on may fear their password is known: a session opened with it alone ends, and so does a move of the login asked with it.
      await this.sessions.endAll(unit, principal, 'second-step-enabled', actor.sessionId);
      await this.tokens.voidAll(unit.manager, principal, { purpose: 'email-change' });
      await this.recordChange(unit, principal, 'enabled', client.ip);
      return true;
    });
    await this.settleCode(principal, client.ip, confirmed, 'mfa.change-failed', WRONG_SET_UP_CODE);
    return { recoveryCodes };
  }

  /** `POST /v1/me/mfa/disable`: the password and a code turn two-step sign-in off. */
  async disable(request: SecondFactorChangeRequest): Promise<{ disabled: true }> {
    await this.changeWithBothFactors(
      request,
      'disabled',
      () => Promise.resolve(null),
      async (unit, principal) => {
        this.sessions.secondStepLost(unit, (await turnFactorOff(unit.manager, principal)).sessions);
      },
    );
    return { disabled: true };
  }

  /** `POST /v1/me/mfa/recovery-codes`: the password and a code replace every recovery code by a new set (shown this once). */
  async renewRecoveryCodes(request: SecondFactorChangeRequest): Promise<RecoveryCodesView> {
    const recoveryCodes = newRecoveryCodes();
    await this.changeWithBothFactors(
      request,
      'recovery-codes-renewed',
      (factorId) => hashRecoveryCodes(factorId, recoveryCodes),
      (unit, _principal, factorId, hashes) => replaceRecoveryCodes(unit.manager, factorId, hashes),
    );
    return { recoveryCodes };
  }

  /**
   * An admin of a subuser's account turns its second step off (a lost phone): see
   * {@link resetSecondStep}. Runs in the caller's transaction (404 when the subuser was deleted
   * meanwhile, as if the deletion had come first; 409 when it is off).
   */
  async resetForSubuser(unit: UnitOfWork, actor: Actor, subuserId: string, ip: string): Promise<void> {
    const target: Principal = { type: 'subuser', id: subuserId };
    const deps = { ...this.changeDeps(), secondStepLost: (sessions: SessionLosingSecondStep[]) => this.sessions.secondStepLost(unit, sessions) };
    if (await resetSecondStep(deps, unit.manager, { actor: principalOf(actor), target, change: 'reset-by-admin', ip })) unit.afterCommit(this.nudgeRelay);
  }

  /**
   * Before a change the login guards: the principal's factor and the code made ready for it
   * ({@link readTypedCode}, before any transaction) when the change needs a code (the second step
   * is on), the code then charged to the principal's counters (429 while locked), or null when it
   * needs none. A needed code missing is 400 naming `code`, charged nothing. Read without a lock:
   * {@link passCode}, in the change's transaction, decides.
   */
  async chargeCodeIfNeeded(
    principal: Principal,
    code: string | undefined,
    ip: string,
    failedAction: AuditAction = 'mfa.change-failed',
  ): Promise<ChargedCode | null> {
    const factor = await findFactor(this.dataSource.manager, principal);
    if (!factor?.confirmedAt) return null;
    if (code === undefined) throw codeRequired();
    assertCheckable(factor, code, this.secrets);
    await this.chargeCode(principal, ip, failedAction);
    return { factor, typed: await readTypedCode(factor.id, code) };
  }

  /** Whether `principal`'s second step is on (locking its factor when in a transaction that locked the principal). */
  async isOn(manager: EntityManager, principal: Principal, lock = false): Promise<boolean> {
    return (await findFactor(manager, principal, lock))?.confirmedAt != null;
  }

  /**
   * In the change's transaction, the principal's row locked by the caller: uses `code` up as the
   * second factor. `off` when the second step is off (turned off meanwhile), null for a wrong code.
   */
  async passCode(manager: EntityManager, principal: Principal, typed: TypedCode): Promise<SecondFactorMethod | 'off' | null> {
    const factor = await findFactor(manager, principal, true);
    if (!factor?.confirmedAt) return 'off';
    return useSecondFactor(manager, factor, typed, this.clock.now(), this.secrets);
  }

  /** After the change's transaction: the counters start afresh when the code was right; a wrong one is audited (`failedAction`) and refused naming `code`. */
  async settleCode(principal: Principal, ip: string, passed: boolean, failedAction: AuditAction = 'mfa.change-failed', wrong = WRONG_CODE): Promise<void> {
    if (passed) return this.throttle.succeeded(secondFactorKeys(principal.id, ip));
    const accountIds = await activeAccountsOf(this.dataSource.manager, principal);
    await this.audit.record(null, { accountIds, action: failedAction, actor: principal, target: principal, ip, details: { reason: 'wrong-code' } });
    throw new DomainError(ErrorCode.ValidationFailed, wrong, { field: 'code' });
  }

  /**
   * Checks the current password, then (throttled) the code against the caller's factor, and only
   * then runs `apply` (with what `prepare` made of the factor's id before the transaction: slow
   * hashes), audits it and queues its notice, all in one transaction with the principal locked and
   * its password still the one checked. 409 while two-step sign-in is off (charged nothing), or
   * when it was set up anew meanwhile.
   */
  private async changeWithBothFactors<P>(
    { actor, body, client }: SecondFactorChangeRequest,
    change: 'disabled' | 'recovery-codes-renewed',
    prepare: (factorId: string) => Promise<P>,
    apply: (unit: UnitOfWork, principal: Principal, factorId: string, prepared: P) => Promise<void>,
  ): Promise<void> {
    const profile = await this.passwords.checkCurrent(actor, body.currentPassword, client.ip, 'mfa.change-failed');
    const { principal } = profile;
    const charged = await this.chargeCodeIfNeeded(principal, body.code, client.ip);
    if (!charged) throw secondStepOff();
    const { factor: seen, typed } = charged;
    const prepared = await prepare(seen.id);
    const passed = await this.transactions.run(async (unit) => {
      await lockUnchangedPassword(unit.manager, profile);
      const current = await findFactor(unit.manager, principal, true);
      if (!current?.confirmedAt) throw secondStepOff();
      // What `prepare` made is the seen factor's: set up anew meanwhile, the change is refused before the code is used.
      if (current.id !== seen.id && change === 'recovery-codes-renewed')
        throw new DomainError(ErrorCode.Conflict, 'Two-step sign-in changed meanwhile; try again');
      const method = await useSecondFactor(unit.manager, current, typed, this.clock.now(), this.secrets);
      if (method === null) return false;
      await apply(unit, principal, current.id, prepared);
      await this.recordChange(unit, principal, change, client.ip, { method });
      return true;
    });
    await this.settleCode(principal, client.ip, passed);
  }

  private changeDeps(): SecondStepChangeDeps {
    return { audit: this.audit, outbox: this.outbox, clock: this.clock };
  }

  /** Audits a change of the caller's own second step and queues the notice to its e-mail (when it has one). */
  private async recordChange(unit: UnitOfWork, principal: Principal, change: SecondStepChange, ip: string, details?: AuditDetails): Promise<void> {
    if (await recordSecondStepChange(this.changeDeps(), unit.manager, { actor: principal, target: principal, change, ip, details }))
      unit.afterCommit(this.nudgeRelay);
  }

  /** Charges a typed code to the principal's second-factor counters (429 while locked, audited as `failedAction`). */
  private async chargeCode(principal: Principal, ip: string, failedAction: AuditAction = 'mfa.change-failed'): Promise<void> {
    const verdict = await this.throttle.reserve(secondFactorKeys(principal.id, ip));
    if (verdict.allowed) return;
    const accountIds = await activeAccountsOf(this.dataSource.manager, principal);
    await this.audit.record(null, { accountIds, action: failedAction, actor: principal, target: principal, ip, details: { reason: 'throttled' } });
    throw tooManyAttempts(verdict.retryAfterMs);
  }
}

/** A code charged for a change the login guards: the factor it was read against, and the code made ready for it. */
export interface ChargedCode {
  factor: TotpFactor;
  typed: TypedCode;
}

/** Whether `factor` is a set-up still waiting for its first code, started less than {@link SET_UP_TTL_MS} ago. */
function isSettingUp(factor: TotpFactor | null, now: Date): factor is TotpFactor {
  return factor !== null && factor.confirmedAt === null && now.getTime() - factor.createdAt.getTime() < SET_UP_TTL_MS;
}

/** A change the login guards asked without the code its second step needs. */
export function codeRequired(): DomainError {
  return new DomainError(ErrorCode.ValidationFailed, 'code is required: two-step sign-in is on', { field: 'code' });
}

function notSettingUp(): DomainError {
  return new DomainError(ErrorCode.Conflict, 'Start setting up an authenticator first (POST /v1/me/mfa/totp); a set-up waits 15 minutes for its first code');
}

function secondStepOff(): DomainError {
  return new DomainError(ErrorCode.Conflict, 'Two-step sign-in is off');
}

/** How the authenticator app names the login: the e-mail of a person, `slug/login` for a subuser. */
function labelOf(profile: PrincipalProfile): string {
  return profile.principal.type === 'user' ? profile.email! : `${profile.accountSlug}/${profile.login}`;
}

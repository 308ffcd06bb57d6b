import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import type { Principal } from '#libs/contracts/index.js';
import { hashRecoveryCode, normalizeRecoveryCode } from './recovery-codes.js';
import type { FactorSecrets } from './factor-secrets.js';
import { looksLikeTotp, matchTotp } from './totp.js';

/** A principal's authenticator: confirmed (on) or still being set up. */
export interface TotpFactor {
  id: string;
  /** The secret as stored: {@link FactorSecrets.open} reads it. */
  storedSecret: Buffer;
  confirmedAt: Date | null;
  lastUsedStep: number | null;
  /** When its set-up started. */
  createdAt: Date;
  /** Since when no sign-in gets past it (too many wrong codes within 30 days), or null. */
  blockedAt: Date | null;
}

/** How a second step was passed. */
export type SecondFactorMethod = 'totp' | 'recovery-code';

interface FactorRow {
  id: string;
  secret: Buffer;
  confirmed_at: Date | null;
  last_used_step: string | null;
  created_at: Date;
  blocked_at: Date | null;
}

/** Rows an UPDATE or DELETE (with `RETURNING 1`) changed (run as a CTE: TypeORM answers a bare UPDATE with its own shape). */
async function changedRows(manager: EntityManager, statement: string, parameters: unknown[]): Promise<number> {
  const [{ count }] = await manager.query<Array<{ count: number }>>(`WITH changed AS (${statement}) SELECT count(*)::int AS count FROM changed`, parameters);
  return count;
}

/** An open session that no longer counts as having passed a second step, and when its last access token expires (null: unknown). */
export interface SessionLosingSecondStep {
  id: string;
  accessExpiresAt: Date | null;
}

/**
 * Says on the principal's own row whether its second step is on (what a sign-in's statement
 * checks, the row locked). Off, none of its sessions counts as having passed one any more: their
 * next access tokens say `pwd` alone, and an account that requires a second step refuses them;
 * those still open are marked (`second_step_lost_at`, for the gate state) and answered, so that
 * the gateways can be told to refuse the tokens they already hold.
 */
async function markSecondStep(manager: EntityManager, principal: Principal, on: boolean): Promise<SessionLosingSecondStep[]> {
  await manager.query(`UPDATE ${principal.type === 'user' ? 'users' : 'subusers'} SET second_step = $2 WHERE id = $1`, [principal.id, on]);
  if (on) return [];
  const [rows] = await manager.query<[Array<{ id: string; access_expires_at: Date | null; open: boolean }>, number]>(
    `UPDATE sessions SET second_step_passed = false, second_step_lost_at = CASE WHEN revoked_at IS NULL THEN now() END
      WHERE principal_type = $1 AND principal_id = $2 AND second_step_passed RETURNING id, access_expires_at, revoked_at IS NULL AS open`,
    [principal.type, principal.id],
  );
  return rows.filter((row) => row.open).map((row) => ({ id: row.id, accessExpiresAt: row.access_expires_at }));
}

/** The column that holds `principal`'s id. */
function ownerColumn(principal: Principal): 'user_id' | 'subuser_id' {
  return principal.type === 'user' ? 'user_id' : 'subuser_id';
}

/** `principal`'s authenticator (locked FOR UPDATE when `lock`), or null. */
export async function findFactor(manager: EntityManager, principal: Principal, lock = false): Promise<TotpFactor | null> {
  const rows = await manager.query<FactorRow[]>(
    `SELECT id, secret, confirmed_at, last_used_step, created_at, blocked_at FROM totp_factors WHERE ${ownerColumn(principal)} = $1 ${lock ? 'FOR UPDATE' : ''}`,
    [principal.id],
  );
  if (rows.length === 0) return null;
  const [row] = rows;
  return {
    id: row.id,
    storedSecret: row.secret,
    confirmedAt: row.confirmed_at,
    lastUsedStep: row.last_used_step === null ? null : Number(row.last_used_step),
    createdAt: row.created_at,
    blockedAt: row.blocked_at,
  };
}

/** Replaces any factor of `principal` by a new one being set up from `now`, with `storedSecret` (sealed by {@link FactorSecrets.seal}). */
export async function startFactor(manager: EntityManager, principal: Principal, storedSecret: Buffer, now: Date): Promise<void> {
  await manager.query(`DELETE FROM totp_factors WHERE ${ownerColumn(principal)} = $1`, [principal.id]);
  await manager.query(`INSERT INTO totp_factors (id, ${ownerColumn(principal)}, secret, created_at) VALUES ($1, $2, $3, $4)`, [
    randomUUID(),
    principal.id,
    storedSecret,
    now,
  ]);
}

/** Removes a set-up of `principal` never confirmed (a password change or reset ends it: it was started with the old password). */
export async function dropUnconfirmedFactor(manager: EntityManager, principal: Principal): Promise<void> {
  await manager.query(`DELETE FROM totp_factors WHERE ${ownerColumn(principal)} = $1 AND confirmed_at IS NULL`, [principal.id]);
}

/**
 * Turns a factor on at `now`, the step of its first code used up, and says so on the principal's
 * row. The session it was turned on in (`sessionId`, still open) counts as having passed a second
 * step from now: its code was just checked (no longer listed to the gateways as having lost one;
 * the caller tells them at once, `secondStepRegained`).
 */
export async function confirmFactor(manager: EntityManager, principal: Principal, factorId: string, step: number, now: Date, sessionId: string): Promise<void> {
  await markSecondStep(manager, principal, true);
  await manager.query(
    'UPDATE sessions SET second_step_passed = true, second_step_lost_at = NULL WHERE id = $1 AND principal_type = $2 AND principal_id = $3 AND revoked_at IS NULL',
    [sessionId, principal.type, principal.id],
  );
  await manager.query('UPDATE totp_factors SET confirmed_at = $3, last_used_step = $2 WHERE id = $1', [factorId, step, now]);
}

/** Stores a new set of recovery codes for a factor, as their `hashes` ({@link hashRecoveryCodes}), replacing the old set. */
export async function replaceRecoveryCodes(manager: EntityManager, factorId: string, hashes: string[]): Promise<void> {
  await manager.query('DELETE FROM recovery_codes WHERE factor_id = $1', [factorId]);
  await manager.query('INSERT INTO recovery_codes (factor_id, code_hash) SELECT $1, unnest($2::text[])', [factorId, hashes]);
}

/** Unused recovery codes of a factor. */
export async function recoveryCodesLeft(manager: EntityManager, factorId: string): Promise<number> {
  const [{ count }] = await manager.query<Array<{ count: number }>>(
    'SELECT count(*)::int AS count FROM recovery_codes WHERE factor_id = $1 AND used_at IS NULL',
    [factorId],
  );
  return count;
}

/**
 * Removes `principal`'s factor and its recovery codes, and says so on its row (none of its sessions
 * counts as having passed a second step any more: see markSecondStep); whether there was one.
 */
export async function removeFactor(manager: EntityManager, principal: Principal): Promise<boolean> {
  return (await turnFactorOff(manager, principal)).removed;
}

/** {@link removeFactor}, answering also the open sessions that stopped counting as having passed a second step (to tell the gateways). */
export async function turnFactorOff(manager: EntityManager, principal: Principal): Promise<{ removed: boolean; sessions: SessionLosingSecondStep[] }> {
  const sessions = await markSecondStep(manager, principal, false);
  const removed = (await changedRows(manager, `DELETE FROM totp_factors WHERE ${ownerColumn(principal)} = $1 RETURNING 1`, [principal.id])) > 0;
  return { removed, sessions };
}

/**
 * Days over which wrong codes add up: the count starts afresh with the first wrong code after this
 * long since the one that started it, not with a right code (whose owner signing in every day would
 * otherwise let a guesser who knows the password go on for ever, a few codes a day).
 */
export const WRONG_CODE_WINDOW_DAYS = 30;

/**
 * Counts one more wrong code typed at sign-in for the factor `factorId` (its row locked by the
 * caller), at `now`, within its window ({@link WRONG_CODE_WINDOW_DAYS}; one that ended starts anew
 * with this code): how many now.
 */
export async function countWrongCode(manager: EntityManager, factorId: string, now: Date): Promise<number> {
  const [{ count }] = await manager.query<Array<{ count: number }>>(
    `WITH counted AS (
       UPDATE totp_factors SET
         wrong_codes = CASE WHEN wrong_codes_since > $2::timestamptz - make_interval(days => $3) THEN wrong_codes + 1 ELSE 1 END,
         wrong_codes_since = CASE WHEN wrong_codes_since > $2::timestamptz - make_interval(days => $3) THEN wrong_codes_since ELSE $2::timestamptz END
       WHERE id = $1 RETURNING wrong_codes)
     SELECT wrong_codes AS count FROM counted`,
    [factorId, now, WRONG_CODE_WINDOW_DAYS],
  );
  return count;
}

/** Blocks the factor `factorId` at `now`: no sign-in gets past it until {@link liftBlock} (or its removal). */
export async function blockFactor(manager: EntityManager, factorId: string, now: Date): Promise<void> {
  await manager.query('UPDATE totp_factors SET blocked_at = $2 WHERE id = $1', [factorId, now]);
}

/** Those of the subusers `subuserIds` whose second step is blocked ({@link blockFactor}): what their admins see. */
export async function blockedSubusers(manager: EntityManager, subuserIds: string[]): Promise<Set<string>> {
  const rows = await manager.query<Array<{ id: string }>>(
    'SELECT subuser_id AS id FROM totp_factors WHERE subuser_id = ANY($1::uuid[]) AND blocked_at IS NOT NULL',
    [subuserIds],
  );
  return new Set(rows.map((row) => row.id));
}

/** A new password for `principal` (a reset or a change): its second step is no longer blocked, and counts wrong codes afresh. */
export async function liftBlock(manager: EntityManager, principal: Principal): Promise<void> {
  await manager.query(
    `UPDATE totp_factors SET blocked_at = NULL, wrong_codes = 0, wrong_codes_since = NULL WHERE ${ownerColumn(principal)} = $1 AND (blocked_at IS NOT NULL OR wrong_codes > 0)`,
    [principal.id],
  );
}

/**
 * Throws the 503 of {@link FactorSecrets.open} when `code` is an authenticator's and `factor`'s
 * secret cannot be read on this replica: called before a code is charged to the throttle, so that
 * a replica without the key costs nobody an attempt. A recovery code needs no secret.
 */
export function assertCheckable(factor: TotpFactor, code: string, secrets: FactorSecrets): void {
  if (looksLikeTotp(code) && !secrets.canOpen(factor.storedSecret)) secrets.open(factor.storedSecret);
}

/**
 * A code as typed, made ready before the transaction that uses it: an authenticator's code as it
 * is, a recovery code as its hash for one factor (scrypt: slow, so never made while a transaction
 * holds locks), or `none` when it can be neither.
 */
export type TypedCode = { kind: 'totp'; code: string } | { kind: 'recovery-code'; factorId: string; hash: string } | { kind: 'none' };

/** `code` made ready ({@link TypedCode}) against the factor `factorId` (a recovery code's hash is salted with it). */
export async function readTypedCode(factorId: string, code: string): Promise<TypedCode> {
  if (looksLikeTotp(code)) return { kind: 'totp', code };
  const normalized = normalizeRecoveryCode(code);
  if (normalized === null) return { kind: 'none' };
  return { kind: 'recovery-code', factorId, hash: await hashRecoveryCode(factorId, normalized) };
}

/**
 * Uses `typed` as the second factor of a confirmed `factor` (its row locked by the caller), at
 * `now`: a code of the authenticator (its step then used up: it never works again, nor does an
 * older one) or an unused recovery code (then used up; it needs no secret, so it works on a
 * replica that cannot read the secret; hashed for another factor, it matches none of this one's).
 * Each use is one conditional UPDATE, so two requests with one code cannot both pass. The method
 * that passed, or null.
 */
export async function useSecondFactor(
  manager: EntityManager,
  factor: TotpFactor,
  typed: TypedCode,
  now: Date,
  secrets: FactorSecrets,
): Promise<SecondFactorMethod | null> {
  if (typed.kind === 'totp') return useTotpCode(manager, factor, typed.code, now, secrets);
  if (typed.kind === 'recovery-code' && typed.factorId === factor.id) return useRecoveryCode(manager, factor, typed.hash, now);
  return null;
}

/**
 * Whether `typed`, which {@link useSecondFactor} refused, is a code of `factor` already used up:
 * an authenticator's code of a step within the window no later than the last one used (that one,
 * or an older one the app showed a moment before), or a recovery code of this factor used before.
 * What a form sent twice, or two sign-ins with one code at once, type: the owner's own code, no guess.
 */
export async function isUsedCode(manager: EntityManager, factor: TotpFactor, typed: TypedCode, now: Date, secrets: FactorSecrets): Promise<boolean> {
  if (typed.kind === 'totp') {
    const step = matchTotp(secrets.open(factor.storedSecret), typed.code, now, null);
    return step !== null && factor.lastUsedStep !== null && step <= factor.lastUsedStep;
  }
  if (typed.kind !== 'recovery-code' || typed.factorId !== factor.id) return false;
  const rows = await manager.query<unknown[]>('SELECT 1 FROM recovery_codes WHERE factor_id = $1 AND code_hash = $2 AND used_at IS NOT NULL', [
    factor.id,
    typed.hash,
  ]);
  return rows.length > 0;
}

async function useTotpCode(manager: EntityManager, factor: TotpFactor, code: string, now: Date, secrets: FactorSecrets): Promise<SecondFactorMethod | null> {
  const step = matchTotp(secrets.open(factor.storedSecret), code, now, factor.lastUsedStep);
  if (step === null) return null;
  const used = await changedRows(
    manager,
    'UPDATE totp_factors SET last_used_step = $2 WHERE id = $1 AND (last_used_step IS NULL OR last_used_step < $2) RETURNING 1',
    [factor.id, step],
  );
  return used > 0 ? 'totp' : null;
}

async function useRecoveryCode(manager: EntityManager, factor: TotpFactor, hash: string, now: Date): Promise<SecondFactorMethod | null> {
  const used = await changedRows(manager, 'UPDATE recovery_codes SET used_at = $3 WHERE factor_id = $1 AND code_hash = $2 AND used_at IS NULL RETURNING 1', [
    factor.id,
    hash,
    now,
  ]);
  return used > 0 ? 'recovery-code' : null;
}

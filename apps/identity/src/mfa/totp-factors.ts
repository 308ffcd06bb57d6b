import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import type { Principal } from '#libs/contracts/index.js';
import { hashRecoveryCode, normalizeRecoveryCode } from './recovery-codes.js';
import { matchTotp } from './totp.js';

/** A principal's authenticator: confirmed (on) or still being set up. */
export interface TotpFactor {
  id: string;
  secret: Buffer;
  confirmedAt: Date | null;
  lastUsedStep: number | null;
}

/** How a second step was passed. */
export type SecondFactorMethod = 'totp' | 'recovery-code';

interface FactorRow {
  id: string;
  secret: Buffer;
  confirmed_at: Date | null;
  last_used_step: string | null;
}

/** Rows an UPDATE or DELETE (with `RETURNING 1`) changed (run as a CTE: TypeORM answers a bare UPDATE with its own shape). */
async function changedRows(manager: EntityManager, statement: string, parameters: unknown[]): Promise<number> {
  const [{ count }] = await manager.query<Array<{ count: number }>>(`WITH changed AS (${statement}) SELECT count(*)::int AS count FROM changed`, parameters);
  return count;
}

/** The column that holds `principal`'s id. */
function ownerColumn(principal: Principal): 'user_id' | 'subuser_id' {
  return principal.type === 'user' ? 'user_id' : 'subuser_id';
}

/** `principal`'s authenticator (locked FOR UPDATE when `lock`), or null. */
export async function findFactor(manager: EntityManager, principal: Principal, lock = false): Promise<TotpFactor | null> {
  const rows = await manager.query<FactorRow[]>(
    `SELECT id, secret, confirmed_at, last_used_step FROM totp_factors WHERE ${ownerColumn(principal)} = $1 ${lock ? 'FOR UPDATE' : ''}`,
    [principal.id],
  );
  if (rows.length === 0) return null;
  const [row] = rows;
  return { id: row.id, secret: row.secret, confirmedAt: row.confirmed_at, lastUsedStep: row.last_used_step === null ? null : Number(row.last_used_step) };
}

/** Replaces any factor of `principal` by a new one being set up, with `secret`. */
export async function startFactor(manager: EntityManager, principal: Principal, secret: Buffer): Promise<void> {
  await manager.query(`DELETE FROM totp_factors WHERE ${ownerColumn(principal)} = $1`, [principal.id]);
  await manager.query(`INSERT INTO totp_factors (id, ${ownerColumn(principal)}, secret) VALUES ($1, $2, $3)`, [randomUUID(), principal.id, secret]);
}

/**
 * Turns a factor on, the step of its first code used up. `confirmed_at` is the database's clock at
 * the moment of the write (the principal's row locked), so that it can be compared with the time
 * links were made (an undo removes a factor confirmed after the move it undoes).
 */
export async function confirmFactor(manager: EntityManager, factorId: string, step: number): Promise<Date> {
  const [row] = await manager.query<Array<{ confirmed_at: Date }>>(
    'WITH confirmed AS (UPDATE totp_factors SET confirmed_at = clock_timestamp(), last_used_step = $2 WHERE id = $1 RETURNING confirmed_at) SELECT * FROM confirmed',
    [factorId, step],
  );
  return row.confirmed_at;
}

/** Stores a new set of recovery codes for a factor (as hashes), replacing the old set. */
export async function replaceRecoveryCodes(manager: EntityManager, factorId: string, codes: string[]): Promise<void> {
  await manager.query('DELETE FROM recovery_codes WHERE factor_id = $1', [factorId]);
  await manager.query('INSERT INTO recovery_codes (factor_id, code_hash) SELECT $1, unnest($2::text[])', [
    factorId,
    codes.map((code) => hashRecoveryCode(normalizeRecoveryCode(code)!)),
  ]);
}

/** Unused recovery codes of a factor. */
export async function recoveryCodesLeft(manager: EntityManager, factorId: string): Promise<number> {
  const [{ count }] = await manager.query<Array<{ count: number }>>(
    'SELECT count(*)::int AS count FROM recovery_codes WHERE factor_id = $1 AND used_at IS NULL',
    [factorId],
  );
  return count;
}

/** Removes `principal`'s factor and its recovery codes; whether there was one. */
export async function removeFactor(manager: EntityManager, principal: Principal): Promise<boolean> {
  return (await changedRows(manager, `DELETE FROM totp_factors WHERE ${ownerColumn(principal)} = $1 RETURNING 1`, [principal.id])) > 0;
}

/**
 * Removes `principal`'s factor if it was set up after the link `linkId` was made (confirmed since,
 * or still being set up): what undoing an e-mail change takes away, as whoever moved the login may
 * have set it up. A factor confirmed before stays: it is the owner's. Whether one was removed.
 */
export async function removeFactorSetUpSince(manager: EntityManager, principal: Principal, linkId: string): Promise<boolean> {
  const removed = await changedRows(
    manager,
    `DELETE FROM totp_factors WHERE ${ownerColumn(principal)} = $1
        AND (confirmed_at IS NULL OR confirmed_at >= (SELECT created_at FROM action_tokens WHERE id = $2)) RETURNING 1`,
    [principal.id, linkId],
  );
  return removed > 0;
}

/**
 * Uses `code` as the second factor of a confirmed `factor`, at `now`: a code of the authenticator
 * (its step then used up: it never works again, nor does an older one) or an unused recovery code
 * (then used up). Each use is one conditional UPDATE, so two requests with one code cannot both
 * pass. The method that passed, or null.
 */
export async function useSecondFactor(manager: EntityManager, factor: TotpFactor, code: string, now: Date): Promise<SecondFactorMethod | null> {
  const step = matchTotp(factor.secret, code, now, factor.lastUsedStep);
  if (step !== null) {
    const used = await changedRows(
      manager,
      'UPDATE totp_factors SET last_used_step = $2 WHERE id = $1 AND (last_used_step IS NULL OR last_used_step < $2) RETURNING 1',
      [factor.id, step],
    );
    return used > 0 ? 'totp' : null;
  }
  const normalized = normalizeRecoveryCode(code);
  if (normalized === null) return null;
  const used = await changedRows(manager, 'UPDATE recovery_codes SET used_at = $3 WHERE factor_id = $1 AND code_hash = $2 AND used_at IS NULL RETURNING 1', [
    factor.id,
    hashRecoveryCode(normalized),
    now,
  ]);
  return used > 0 ? 'recovery-code' : null;
}

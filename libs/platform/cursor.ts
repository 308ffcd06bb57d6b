import { DomainError, ErrorCode } from '#libs/errors/index.js';

/**
 * What one part of a cursor's key holds, as its query reads it: a UUID (`::uuid`), a time
 * (`::timestamptz`, exactly as {@link exactTimestamp} renders it), a transaction id (`::xid8`,
 * in decimal) or text (compared as is).
 */
export type CursorPart = 'uuid' | 'time' | 'xid' | 'text';

/**
 * Longest text part, in UTF-16 code units, above every text key the API gives: a person's sort name,
 * which `identity.person_sort_name` cuts at `MAX_SORT_NAME_LENGTH` (201) code points, so at most 402
 * code units however folding lengthens it (unaccent writes `㎮` as `rad/s`); a lower-cased e-mail
 * (at most 319 UTF-8 bytes, as class-validator's `IsEmail` bounds its parts); an application's
 * lower-cased name (100 characters as class-validator counts them: at most 300 code units); a
 * subuser login (64 ASCII characters). The cursor itself is at most `MAX_CURSOR_LENGTH`
 * (libs/contracts) characters on the wire; the longest sort name takes at most 1,206 bytes of JSON
 * (a control character is six) before base64 (cursor.spec.ts checks both).
 */
const MAX_TEXT_PART = 1000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/**
 * A time as {@link exactTimestamp} renders it, the only form a cursor of this API holds: UTC to the
 * microsecond (`2026-03-01T10:00:00.123456Z`). Looser forms PostgreSQL reads too are refused, as
 * some it refuses looked alike (`+01:0101`, a zone out of range: 22009, a 500).
 */
/** A transaction id as PostgreSQL writes an xid8 (decimal, at most 2^64 - 1: {@link isXid}). */
const XID = /^(0|[1-9]\d{0,19})$/;
const MAX_XID = 2n ** 64n - 1n;
const TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\.\d{6}Z$/;

/** An opaque cursor: the sort it belongs to and the key of the last row given. */
export function encodeCursor(parts: string[]): string {
  return Buffer.from(JSON.stringify(parts), 'utf8').toString('base64url');
}

/**
 * The key parts of a cursor made by {@link encodeCursor}, checked against what the caller expects:
 * `prefix`, the sort it was made for, then one part of each kind in `key`, each a value its query
 * can read (a UUID, a time that exists, text without NUL, none too long). Anything else is a 400
 * naming the cursor, never a 500.
 */
export function decodeCursor(cursor: string | undefined, prefix: string[], key: CursorPart[]): string[] | null {
  if (cursor === undefined) return null;
  let parts: unknown;
  try {
    parts = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    parts = undefined;
  }
  const valid =
    Array.isArray(parts) &&
    parts.length === prefix.length + key.length &&
    prefix.every((expected, index) => parts[index] === expected) &&
    key.every((kind, index) => isCursorPart(kind, parts[prefix.length + index]));
  if (!valid) throw new DomainError(ErrorCode.ValidationFailed, 'cursor is not one this API gave for this sort', { field: 'cursor' });
  return (parts as string[]).slice(prefix.length);
}

/** Whether `value` is a part of kind `kind` that its query can read. */
export function isCursorPart(kind: CursorPart, value: unknown): value is string {
  if (typeof value !== 'string') return false;
  if (kind === 'uuid') return UUID.test(value);
  if (kind === 'time') return isTime(value);
  if (kind === 'xid') return isXid(value);
  return value.length <= MAX_TEXT_PART && !value.includes('\u0000');
}

/** A time of {@link TIME}'s form on a day that exists, or PostgreSQL's infinities. */
function isTime(value: string): boolean {
  if (value === '-infinity' || value === 'infinity') return true;
  const match = TIME.exec(value);
  if (!match) return false;
  const [year, month, day, hour, minute, second] = match.slice(1).map(Number);
  return year >= 1 && month >= 1 && month <= 12 && day >= 1 && day <= daysIn(year, month) && hour < 24 && minute < 60 && second < 60;
}

/** A transaction id of {@link XID}'s form that an xid8 holds. */
function isXid(value: string): boolean {
  return XID.test(value) && BigInt(value) <= MAX_XID;
}

/** Days in a month of the Gregorian calendar (as PostgreSQL counts them). */
function daysIn(year: number, month: number): number {
  if (month !== 2) return [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1];
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
}

/**
 * SQL that renders a timestamptz exactly (microseconds, UTC, whatever the session's DateStyle),
 * so a cursor compares exactly; the infinities as PostgreSQL writes them.
 */
export function exactTimestamp(column: string): string {
  return `CASE WHEN isfinite(${column}) THEN to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') ELSE (${column})::text END`;
}

import { DomainError, ErrorCode } from '#libs/errors/index.js';

/** An opaque cursor: the sort it belongs to and the key of the last row given. */
export function encodeCursor(parts: string[]): string {
  return Buffer.from(JSON.stringify(parts), 'utf8').toString('base64url');
}

/**
 * The parts of a cursor made by {@link encodeCursor}, checked against what the caller expects
 * (`prefix`: the sort it was made for). Anything else is a 400, never a 500.
 */
export function decodeCursor(cursor: string | undefined, prefix: string[], keyParts: number): string[] | null {
  if (cursor === undefined) return null;
  let parts: unknown;
  try {
    parts = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    parts = undefined;
  }
  const valid =
    Array.isArray(parts) &&
    parts.length === prefix.length + keyParts &&
    parts.every((part) => typeof part === 'string' && part.length <= 300) &&
    prefix.every((expected, index) => parts[index] === expected);
  if (!valid) throw new DomainError(ErrorCode.ValidationFailed, 'cursor is not one this API gave for this sort', { field: 'cursor' });
  return (parts as string[]).slice(prefix.length);
}

/** SQL that renders a timestamptz exactly (microseconds, UTC), so a cursor compares exactly. */
export function exactTimestamp(column: string): string {
  return `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
}

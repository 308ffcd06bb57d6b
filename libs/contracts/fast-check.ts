import { DomainError, ErrorCode } from '#libs/errors/index.js';
import { PRINCIPAL_TYPES } from './actor.js';
import type { CheckRequest, EffectivePermissionsRequest } from './access.contract.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const CHECK_FIELDS = new Set(['principal', 'accountId', 'section', 'action', 'applicationId']);
const EFFECTIVE_FIELDS = new Set(['principal', 'accountId', 'applicationId']);

type Fail = (field: string, message: string) => never;

function failer(path: string): Fail {
  return (field, message) => {
    throw new DomainError(ErrorCode.ValidationFailed, `${path}${field} ${message}`, { field: `${path}${field}` });
  };
}

/** The fields every question about a principal in an account shares: only `allowed` fields, a principal, UUIDs. */
function checkSubjectFields(value: unknown, allowed: Set<string>, fail: Fail, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return fail(what, 'must be an object');
  const input = value as Record<string, unknown>;
  for (const key of Object.keys(input)) if (!allowed.has(key)) fail(key, 'should not exist');
  const principal = input.principal as Record<string, unknown> | null;
  if (typeof principal !== 'object' || principal === null) return fail('principal', 'must be an object');
  if (!PRINCIPAL_TYPES.includes(principal.type as never)) fail('principal.type', `must be one of ${PRINCIPAL_TYPES.join(', ')}`);
  if (typeof principal.id !== 'string' || !UUID.test(principal.id)) fail('principal.id', 'must be a UUID');
  if (Object.keys(principal).length !== 2) fail('principal', 'must hold only type and id');
  if (typeof input.accountId !== 'string' || !UUID.test(input.accountId)) fail('accountId', 'must be a UUID');
  if (input.applicationId !== undefined && (typeof input.applicationId !== 'string' || !UUID.test(input.applicationId)))
    fail('applicationId', 'must be a UUID');
  return input;
}

/**
 * Validates a check without class-validator: the check API is the hot path of every internal
 * service, and this costs a fraction of a microsecond. Same rules as {@link CheckRequest}'s
 * decorators (which document and validate the HTTP side); `path` prefixes field names in errors.
 */
export function parseCheckRequest(value: unknown, path = ''): CheckRequest {
  const fail = failer(path);
  const input = checkSubjectFields(value, CHECK_FIELDS, fail, 'check');
  if (typeof input.section !== 'string' || input.section.length === 0 || input.section.length > 100) fail('section', 'must be a string of 1 to 100 characters');
  if (typeof input.action !== 'string' || input.action.length === 0 || input.action.length > 50) fail('action', 'must be a string of 1 to 50 characters');
  return value as CheckRequest;
}

/** Validates `access.permissions.effective` (asked on every page of a panel, for its menus) the same way. */
export function parseEffectivePermissionsRequest(value: unknown): EffectivePermissionsRequest {
  checkSubjectFields(value, EFFECTIVE_FIELDS, failer(''), 'request');
  return value as EffectivePermissionsRequest;
}

/** Validates `access.check.batch`: `{ checks: CheckRequest[] }` with at most 1000 checks. */
export function parseCheckBatch(value: unknown): CheckRequest[] {
  const checks = (value as { checks?: unknown } | null)?.checks;
  if (!Array.isArray(checks)) throw new DomainError(ErrorCode.ValidationFailed, 'checks must be an array', { field: 'checks' });
  if (checks.length > 1000) throw new DomainError(ErrorCode.ValidationFailed, 'checks must hold at most 1000 checks', { field: 'checks' });
  if (Object.keys(value as object).length !== 1) throw new DomainError(ErrorCode.ValidationFailed, 'only checks is allowed');
  return checks.map((check, index) => parseCheckRequest(check, `checks.${index}.`));
}

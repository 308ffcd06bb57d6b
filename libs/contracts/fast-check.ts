import { DomainError, ErrorCode } from '#libs/errors/index.js';
import { PRINCIPAL_TYPES } from './actor.js';
import type { BindingsOfPrincipalsRequest, CheckRequest, EffectivePermissionsRequest } from './access.contract.js';
import { codePoints } from './text-length.js';
import { UUID_PATTERN } from './uuid.js';

const CHECK_FIELDS = new Set(['principal', 'accountId', 'section', 'action', 'applicationId', 'atLeastVersion']);
const EFFECTIVE_FIELDS = new Set(['principal', 'accountId', 'applicationId']);

/** What is wrong with an input: the field and the message, turned into an error only when there is one. */
type Problem = readonly [field: string, message: string];

/** At most this many UUIDs are remembered as valid during one batch. */
const KNOWN_UUIDS_PER_BATCH = 64;

/**
 * A UUID by {@link UUID_PATTERN} (the rule of every door). `known` holds UUIDs already found valid in
 * the same batch, whose checks mostly repeat one principal, account and a few applications: a
 * set lookup costs a fraction of the expression.
 */
function isUuid(value: unknown, known?: Set<string>): boolean {
  if (typeof value !== 'string') return false;
  if (known?.has(value)) return true;
  if (!UUID_PATTERN.test(value)) return false;
  if (known && known.size < KNOWN_UUIDS_PER_BATCH) known.add(value);
  return true;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Whether a principal has no field but `type` and `id` (counted without building a key list). */
function hasOnlyTypeAndId(principal: Record<string, unknown>): boolean {
  for (const key in principal) if (key !== 'type' && key !== 'id') return false;
  return true;
}

/** What is wrong with a principal (`{ type, id }` and nothing else), if anything, its field relative to the principal ('' for the whole); `known` as in {@link isUuid}. */
function principalProblem(principal: unknown, known?: Set<string>): Problem | undefined {
  if (!isPlainObject(principal)) return ['', 'must be an object'];
  if (!PRINCIPAL_TYPES.includes(principal.type as never)) return ['type', `must be one of ${PRINCIPAL_TYPES.join(', ')}`];
  if (!isUuid(principal.id, known)) return ['id', 'must be a UUID'];
  if (!hasOnlyTypeAndId(principal)) return ['', 'must hold only type and id'];
  return undefined;
}

/** A principal's problem, named from where the principal sits (`principal`, `principals.3`). */
function within(path: string, [field, message]: Problem): Problem {
  return [field ? `${path}.${field}` : path, message];
}

/** The fields every question about a principal in an account shares: only `allowed` fields, a principal, UUIDs. */
function subjectProblem(input: Record<string, unknown>, allowed: Set<string>, known?: Set<string>): Problem | undefined {
  for (const key in input) if (!allowed.has(key)) return [key, 'should not exist'];
  const problem = principalProblem(input.principal, known);
  if (problem) return within('principal', problem);
  if (!isUuid(input.accountId, known)) return ['accountId', 'must be a UUID'];
  if (input.applicationId !== undefined && !isUuid(input.applicationId, known)) return ['applicationId', 'must be a UUID'];
  return undefined;
}

function checkProblem(value: unknown, known?: Set<string>): Problem | undefined {
  if (!isPlainObject(value)) return ['check', 'must be an object'];
  const problem = subjectProblem(value, CHECK_FIELDS, known);
  if (problem) return problem;
  if (!isText(value.section, 100)) return ['section', 'must be a string of 1 to 100 characters'];
  if (!isText(value.action, 50)) return ['action', 'must be a string of 1 to 50 characters'];
  if (value.atLeastVersion !== undefined && !isVersion(value.atLeastVersion)) return ['atLeastVersion', 'must be an integer of 0 or more'];
  return undefined;
}

/** An account's version: a whole number from 0 to Number.MAX_SAFE_INTEGER. */
function isVersion(value: unknown): boolean {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}

/**
 * Whether `value` is a string of 1 to `max` Unicode code points, as {@link CheckRequest}'s
 * `CodePointLength` counts (an emoji is one, two UTF-16 code units). Code points are counted only
 * past `max` code units: a section or action of that many or fewer is within its bound at a length's read.
 */
function isText(value: unknown, max: number): boolean {
  if (typeof value !== 'string' || value === '') return false;
  return value.length <= max || (value.length <= 2 * max && codePoints(value) <= max);
}

/**
 * Lower-cases the ids of a question once it is valid, as the contracts' `IsUuid` fields do: ids
 * are compared as strings (the owner, oneself, map keys), and one in capitals names the same thing.
 */
function lowerCaseIds(subject: { principal: { id: string }; accountId: string; applicationId?: string }): void {
  subject.principal.id = subject.principal.id.toLowerCase();
  subject.accountId = subject.accountId.toLowerCase();
  if (subject.applicationId !== undefined) subject.applicationId = subject.applicationId.toLowerCase();
}

/** The validation error for a problem; `path` prefixes the field (`checks.3.` in a batch). */
function invalid(path: string, [field, message]: Problem): DomainError {
  return new DomainError(ErrorCode.ValidationFailed, `${path}${field} ${message}`, { field: `${path}${field}` });
}

/**
 * Validates a check without class-validator: the check API is the hot path of every internal
 * service, and this costs a fraction of a microsecond. Same rules as {@link CheckRequest}'s
 * decorators (which document and validate the HTTP side).
 */
export function parseCheckRequest(value: unknown): CheckRequest {
  const problem = checkProblem(value);
  if (problem) throw invalid('', problem);
  lowerCaseIds(value as CheckRequest);
  return value as CheckRequest;
}

/** Validates `access.permissions.effective` (asked on every page of a panel, for its menus) the same way. */
export function parseEffectivePermissionsRequest(value: unknown): EffectivePermissionsRequest {
  const problem = isPlainObject(value) ? subjectProblem(value, EFFECTIVE_FIELDS) : (['request', 'must be an object'] as const);
  if (problem) throw invalid('', problem);
  lowerCaseIds(value as EffectivePermissionsRequest);
  return value as EffectivePermissionsRequest;
}

/** Validates `access.check.batch`: `{ checks: CheckRequest[] }` with at most 1000 checks; an error names the check by its index. */
export function parseCheckBatch(value: unknown): CheckRequest[] {
  const checks = (value as { checks?: unknown } | null)?.checks;
  if (!Array.isArray(checks)) throw new DomainError(ErrorCode.ValidationFailed, 'checks must be an array', { field: 'checks' });
  if (checks.length > 1000) throw new DomainError(ErrorCode.ValidationFailed, 'checks must hold at most 1000 checks', { field: 'checks' });
  if (Object.keys(value as object).length !== 1) throw new DomainError(ErrorCode.ValidationFailed, 'only checks is allowed');
  const known = new Set<string>();
  for (let index = 0; index < checks.length; index += 1) {
    const problem = checkProblem(checks[index], known);
    if (problem) throw invalid(`checks.${index}.`, problem);
  }
  for (const check of checks as CheckRequest[]) lowerCaseIds(check);
  return checks as CheckRequest[];
}

const BINDINGS_OF_FIELDS = new Set(['accountId', 'principals']);

/**
 * Validates `access.bindings.of-principals` (asked for every page of the user and subuser
 * tables): an account and at most 1000 principals; an error names the principal by its index.
 */
export function parseBindingsOfPrincipalsRequest(value: unknown): BindingsOfPrincipalsRequest {
  if (!isPlainObject(value)) throw invalid('', ['request', 'must be an object']);
  for (const key in value) if (!BINDINGS_OF_FIELDS.has(key)) throw invalid('', [key, 'should not exist']);
  if (!isUuid(value.accountId)) throw invalid('', ['accountId', 'must be a UUID']);
  const { principals } = value;
  if (!Array.isArray(principals)) throw invalid('', ['principals', 'must be an array']);
  if (principals.length > 1000) throw invalid('', ['principals', 'must hold at most 1000 principals']);
  const known = new Set<string>();
  for (let index = 0; index < principals.length; index += 1) {
    const problem = principalProblem(principals[index], known);
    if (problem) throw invalid('', within(`principals.${index}`, problem));
  }
  const request = value as unknown as BindingsOfPrincipalsRequest;
  request.accountId = request.accountId.toLowerCase();
  for (const principal of request.principals) principal.id = principal.id.toLowerCase();
  return request;
}

/**
 * Every error the system can answer with. Services throw {@link DomainError}s carrying one of
 * these codes; only the edges (the gateway's HTTP filter) turn a code into a status, through
 * {@link HTTP_STATUS_BY_CODE}.
 */
export enum ErrorCode {
  /** A body, query or payload field is missing, of the wrong type, or not allowed. */
  ValidationFailed = 'VALIDATION_FAILED',
  /** The request body is not valid JSON. */
  MalformedJson = 'MALFORMED_JSON',
  /** The request body is larger than the configured limit. */
  PayloadTooLarge = 'PAYLOAD_TOO_LARGE',
  /** The request body is not of a media type the API reads (JSON). */
  UnsupportedMediaType = 'UNSUPPORTED_MEDIA_TYPE',
  /** No valid credentials (token missing, expired, badly signed, session ended). */
  Unauthenticated = 'UNAUTHENTICATED',
  /** E-mail/login and password do not match a usable login. Same answer for unknown logins. */
  InvalidCredentials = 'INVALID_CREDENTIALS',
  /** The caller is known but lacks the permission. */
  Forbidden = 'FORBIDDEN',
  /** The account requires two-step sign-in, and the caller's session was opened without it. */
  SecondStepRequired = 'SECOND_STEP_REQUIRED',
  /**
   * The login's second step is blocked after too many wrong codes within 30 days (MFA_BLOCK_AFTER_WRONG_CODES):
   * no sign-in gets past it until its password is reset or changed, or its second step reset.
   */
  SecondStepBlocked = 'SECOND_STEP_BLOCKED',
  /** Open sign-up is switched off on this installation. */
  SignupDisabled = 'SIGNUP_DISABLED',
  /** The object does not exist, or exists in an account the caller cannot see. */
  NotFound = 'NOT_FOUND',
  /** The route does not exist. */
  RouteNotFound = 'ROUTE_NOT_FOUND',
  /** A unique value (slug, e-mail, login, name) is already taken. */
  Conflict = 'CONFLICT',
  /** An activation or reset token is unknown, used, expired or superseded. */
  InvalidToken = 'INVALID_TOKEN',
  /** The password breaks the password policy. */
  WeakPassword = 'WEAK_PASSWORD',
  /** Too many attempts; retry later. */
  TooManyRequests = 'TOO_MANY_REQUESTS',
  /** No instance of a needed service is listening, or the service is overloaded. */
  ServiceUnavailable = 'SERVICE_UNAVAILABLE',
  /** A needed service did not answer in time. */
  UpstreamTimeout = 'UPSTREAM_TIMEOUT',
  /** Anything unexpected. The details stay in the log. */
  Internal = 'INTERNAL',
}

/** The one complete table from error code to HTTP status. Adding a code without a status fails to compile. */
export const HTTP_STATUS_BY_CODE: Record<ErrorCode, number> = {
  [ErrorCode.ValidationFailed]: 400,
  [ErrorCode.MalformedJson]: 400,
  [ErrorCode.WeakPassword]: 400,
  [ErrorCode.InvalidToken]: 400,
  [ErrorCode.Unauthenticated]: 401,
  [ErrorCode.InvalidCredentials]: 401,
  [ErrorCode.Forbidden]: 403,
  [ErrorCode.SecondStepRequired]: 403,
  [ErrorCode.SignupDisabled]: 403,
  [ErrorCode.NotFound]: 404,
  [ErrorCode.RouteNotFound]: 404,
  [ErrorCode.Conflict]: 409,
  [ErrorCode.SecondStepBlocked]: 423,
  [ErrorCode.PayloadTooLarge]: 413,
  [ErrorCode.UnsupportedMediaType]: 415,
  [ErrorCode.TooManyRequests]: 429,
  [ErrorCode.Internal]: 500,
  [ErrorCode.ServiceUnavailable]: 503,
  [ErrorCode.UpstreamTimeout]: 504,
};

const KNOWN_CODES = new Set<string>(Object.values(ErrorCode));

/** True when `value` is one of the {@link ErrorCode}s. */
export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && KNOWN_CODES.has(value);
}

/**
 * The message of the NOT_FOUND a service answers when the account is not one the caller works in
 * (or does not exist): the same for both, so that nobody learns of others' accounts. Callers that
 * must tell it from "the person or subuser asked about is not there" compare with it.
 */
export const ACCOUNT_NOT_FOUND = 'Account not found';

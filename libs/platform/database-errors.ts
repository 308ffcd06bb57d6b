// What a failure of PostgreSQL says, told apart without loading TypeORM: the RPC error filter of
// every service (the gateway's too, which has no database) answers by it.

/**
 * Whether `error` is TypeORM's QueryFailedError (a statement PostgreSQL or the driver refused),
 * told by its name: TypeORM names its errors after their class.
 */
export function isQueryFailure(error: unknown): error is Error & { driverError?: unknown } {
  return error instanceof Error && error.name === 'QueryFailedError';
}

/** The SQLSTATE (or socket error code) of the driver error a QueryFailedError wraps, or undefined for anything else. */
export function queryFailureCode(error: unknown): string | undefined {
  const code = isQueryFailure(error) ? (error.driverError as { code?: unknown } | undefined)?.code : undefined;
  return typeof code === 'string' ? code : undefined;
}

/** PostgreSQL's lock_not_available: a lock wait ran past lock_timeout. */
const LOCK_NOT_AVAILABLE = '55P03';

/** Whether a query failed because a lock it waited for was not granted within `lock_timeout`. */
export function isLockTimeout(error: unknown): boolean {
  const failure = error as { code?: string; driverError?: { code?: string } } | null;
  return (failure?.driverError?.code ?? failure?.code) === LOCK_NOT_AVAILABLE;
}

/** Socket errors of a connection to PostgreSQL that could not be made or was lost. */
const UNREACHABLE_SOCKET = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);
/**
 * SQLSTATEs of a server that could not be reached or used: connection exceptions (class 08, but not
 * 08P01, a protocol violation, which is a bug such as a wrong number of parameters), too many
 * connections, and a server shutting down or starting up.
 */
const UNREACHABLE_SERVER = new Set(['08000', '08001', '08003', '08004', '08006', '08007', '53300', '57P01', '57P02', '57P03']);
/** What node-postgres says, without a code, of a connection lost or a pool that could not get one in time. */
const UNREACHABLE_MESSAGE = /^(Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error)/;

/**
 * True when `error` (or the driver error a QueryFailedError wraps) says PostgreSQL could not be
 * reached: refused, lost, shutting down, or no connection in time. Such a request may succeed once
 * the database is back, so it is answered 503 (retry), not the 500 of a bug.
 */
export function isDatabaseUnreachable(error: unknown): boolean {
  const cause = isQueryFailure(error) ? error.driverError : error;
  if (!(cause instanceof Error)) return false;
  const { code } = cause as { code?: unknown };
  if (typeof code !== 'string') return UNREACHABLE_MESSAGE.test(cause.message);
  return UNREACHABLE_SOCKET.has(code) || UNREACHABLE_SERVER.has(code) || UNREACHABLE_MESSAGE.test(cause.message);
}

/** SQLSTATEs of a transaction PostgreSQL rolled back for meeting another: a deadlock (40P01) or a serialization failure (40001). */
const TRANSACTION_CONFLICT = new Set(['40P01', '40001']);

/**
 * True when PostgreSQL rolled the transaction back because it met another one (two changes of one
 * person at the same instant, each waiting for what the other holds): nothing of it was written,
 * and the same request may simply be sent again. Answered 409, not the 500 of a bug.
 */
export function isTransactionConflict(error: unknown): boolean {
  const code = queryFailureCode(error);
  return code !== undefined && TRANSACTION_CONFLICT.has(code);
}

/**
 * What each data exception (SQLSTATE) that a caller's value can cause says of it: too long for
 * its column, a number out of range, a time malformed or out of range, text not of its type's form.
 * PostgreSQL's own message is not passed on (it may quote a stored value, not the caller's).
 */
const VALUE_REFUSALS: Readonly<Record<string, string>> = {
  '22001': 'a value is longer than its field allows',
  '22003': 'a number is out of range',
  '22007': 'a date or time is malformed',
  '22008': 'a date or time is out of range',
  '22009': 'a time zone is out of range',
  '22P02': 'a value is not of the form its field takes',
};

/**
 * What is wrong with a value PostgreSQL refused as data for one of {@link VALUE_REFUSALS}' reasons,
 * or undefined for any other failure (other data exceptions, such as a division by zero, are bugs
 * of the server's own SQL). The validation of each field is to refuse such a value first: one that
 * reaches the database is a gap in it, yet the value is the caller's, so it is answered 400 rather
 * than the 500 of a bug (and logged, to close the gap).
 */
export function refusedValueOf(error: unknown): string | undefined {
  const code = queryFailureCode(error);
  return code !== undefined && Object.hasOwn(VALUE_REFUSALS, code) ? VALUE_REFUSALS[code] : undefined;
}

import type { LoggerService } from '@nestjs/common';
import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import { currentRequestId } from './request-context.js';

/** Creates the process's pino logger (to standard output unless given `destination`); every line carries the service name and the request id. */
export function createLogger(service: string, level: string, destination?: DestinationStream): Logger {
  const options: LoggerOptions = {
    name: service,
    level,
    base: { service },
    mixin: () => {
      const requestId = currentRequestId();
      return requestId ? { requestId } : {};
    },
    redact: { paths: ['*.password', '*.token', '*.refreshToken', '*.accessToken', 'password', 'token'], censor: '[redacted]' },
    serializers: { err: loggableError },
  };
  return destination ? pino(options, destination) : pino(options);
}

/**
 * Fields of a database error that hold a statement's values: TypeORM's `parameters` (a sign-in's
 * binds carry the password hash, a password change both hashes) and PostgreSQL's `detail` ("Failing
 * row contains (...)", the key of a unique violation). Never logged; the code, constraint, table
 * and column say what failed.
 */
const STATEMENT_VALUES = new Set(['parameters', 'detail']);

/** How deep {@link loggableError} looks for statement values (the error, its driver error or cause, theirs, a list of errors); deeper objects are left out. */
const MAX_DEPTH = 6;

/** pino's error serializer, without the statement values of database errors (P6: hashes never reach the logs) at any depth. */
export function loggableError(error: unknown): unknown {
  const serialized: unknown = error instanceof Error ? pino.stdSerializers.err(error) : error;
  return withoutStatementValues(serialized, MAX_DEPTH);
}

function withoutStatementValues(value: unknown, depth: number): unknown {
  if (typeof value !== 'object' || value === null) return value;
  // Deeper than any error nests its causes: not written at all, rather than unexamined.
  if (depth === 0) return '[truncated]';
  if (Array.isArray(value)) return value.map((item) => withoutStatementValues(item, depth - 1));
  const kept: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(value)) if (!STATEMENT_VALUES.has(key)) kept[key] = withoutStatementValues(field, depth - 1);
  return kept;
}

/** Lets Nest write through pino. */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}

  log(message: unknown, context?: string): void {
    this.logger.info({ context }, String(message));
  }
  error(message: unknown, trace?: string, context?: string): void {
    this.logger.error({ context, trace }, String(message));
  }
  warn(message: unknown, context?: string): void {
    this.logger.warn({ context }, String(message));
  }
  debug(message: unknown, context?: string): void {
    this.logger.debug({ context }, String(message));
  }
  verbose(message: unknown, context?: string): void {
    this.logger.trace({ context }, String(message));
  }
}

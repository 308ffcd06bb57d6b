import { ErrorCode, isErrorCode } from './error-codes.js';

/** The shape of an error as it crosses NATS and as the body of an HTTP error (without requestId). */
export interface ErrorPayload {
  code: ErrorCode;
  message: string;
  details?: unknown;
}

/** An expected failure with a code. Thrown by services, carried over NATS, mapped to HTTP by the gateway. */
export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'DomainError';
  }

  /** The wire form of this error. */
  toPayload(): ErrorPayload {
    return this.details === undefined ? { code: this.code, message: this.message } : { code: this.code, message: this.message, details: this.details };
  }

  /** Rebuilds a DomainError from a wire payload; anything unrecognised becomes {@link ErrorCode.Internal}. */
  static fromPayload(payload: unknown): DomainError {
    if (typeof payload === 'object' && payload !== null) {
      const { code, message, details } = payload as Record<string, unknown>;
      if (isErrorCode(code) && typeof message === 'string') return new DomainError(code, message, details);
    }
    return new DomainError(ErrorCode.Internal, 'Internal error');
  }
}

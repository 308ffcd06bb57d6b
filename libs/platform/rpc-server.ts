import { Catch, Injectable, type CallHandler, type ExecutionContext, type NestInterceptor, type RpcExceptionFilter } from '@nestjs/common';
import { NatsContext, ServerNats } from '@nestjs/microservices';
import type { MsgHdrs, Subscription } from '@nats-io/transport-node';
import { type Observable, finalize, throwError } from 'rxjs';
import type { Logger } from 'pino';
import { DomainError, ErrorCode } from '#libs/errors/index.js';
import { describeValidationErrors } from './validation.js';
import type { InFlightTracker } from './in-flight.js';
import type { NatsLink } from './nats-connection.js';
import { acceptRequestId, REQUEST_ID_HEADER, requestContext } from './request-context.js';
import { randomUUID } from 'node:crypto';

/**
 * Nest's NATS server, on the process's shared connection, in a queue group named after the
 * service. On close it stops taking new messages, then waits for in-flight handlers (bounded).
 */
export class PorticoNatsServer extends ServerNats {
  constructor(
    private readonly link: NatsLink,
    queue: string,
    private readonly inFlight: InFlightTracker,
    private readonly graceMs: number,
  ) {
    super({ queue });
  }

  override createNatsClient(): Promise<unknown> {
    return Promise.resolve(this.link.connection);
  }

  override async close(): Promise<void> {
    // Nest keeps the subscriptions private; stopping them is what "stop taking new work" means.
    const subscriptions = (this as unknown as { subscriptions: Subscription[] }).subscriptions ?? [];
    subscriptions.forEach((subscription) => subscription.unsubscribe());
    await this.inFlight.idle(this.graceMs);
  }
}

/** Runs each handler inside the request context (request id from the header) and counts it in flight. */
@Injectable()
export class RpcContextInterceptor implements NestInterceptor {
  constructor(private readonly inFlight: InFlightTracker) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const rpc = context.switchToRpc().getContext<unknown>();
    const headers = rpc instanceof NatsContext ? (rpc.getHeaders() as MsgHdrs | undefined) : undefined;
    const requestId = acceptRequestId(headers?.get(REQUEST_ID_HEADER)) ?? randomUUID();
    this.inFlight.enter();
    // enterWith (not run + a wrapping Observable): the handler and everything it awaits see this
    // request's context; the next message sets its own before anything reads it.
    requestContext.enterWith({ requestId });
    return next.handle().pipe(finalize(() => this.inFlight.leave()));
  }
}

/** Turns whatever a handler throws into an error payload with a code; unexpected errors are logged, never sent. */
@Catch()
export class RpcErrorFilter implements RpcExceptionFilter<unknown> {
  constructor(private readonly logger: Logger) {}

  catch(exception: unknown): Observable<never> {
    return throwError(() => this.toPayload(exception));
  }

  private toPayload(exception: unknown) {
    if (exception instanceof DomainError) return exception.toPayload();
    if (isValidationErrorList(exception)) {
      const problems = describeValidationErrors(exception);
      return new DomainError(ErrorCode.ValidationFailed, problems.join('; '), { problems }).toPayload();
    }
    this.logger.error({ err: exception }, 'Unexpected error in a message handler');
    return new DomainError(ErrorCode.Internal, 'Internal error').toPayload();
  }
}

function isValidationErrorList(value: unknown): value is Parameters<typeof describeValidationErrors>[0] {
  return Array.isArray(value) && value.length > 0 && typeof value[0] === 'object' && value[0] !== null && 'property' in value[0];
}

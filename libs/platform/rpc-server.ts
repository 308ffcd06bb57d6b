import {
  Catch,
  createParamDecorator,
  Injectable,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
  type RpcExceptionFilter,
} from '@nestjs/common';
import { NatsContext, ServerNats } from '@nestjs/microservices';
import type { Msg, MsgHdrs, Subscription } from '@nats-io/transport-node';
import { type Observable, finalize, throwError } from 'rxjs';
import type { Logger } from 'pino';
import { DomainError, ErrorCode } from '#libs/errors/index.js';
import { describeValidationErrors, validationFailure } from './validation.js';
import { refusedValueOf, isDatabaseUnreachable, isTransactionConflict } from './database-errors.js';
import { drainTimeLeft } from './drain-clock.js';
import type { DirectHandler, DirectHandlers } from './direct-handlers.js';
import type { InFlightTracker } from './in-flight.js';
import type { NatsLink } from './nats-connection.js';
import { ResponseLastSerializer } from './reply-layout.js';
import { assertStorablePayload, mayHoldUnstorableInput } from './unstorable-input.js';
import { acceptRequestId, REQUEST_ID_HEADER, requestContext, USER_AGENT_HEADER } from './request-context.js';
import { randomUUID } from 'node:crypto';

const PLAIN_SUBJECT = /^[A-Za-z_][\w.-]*$/;

/** What a NATS subscription calls with each message. */
type MessageCallback = (error: Error | null, message: Msg) => Promise<unknown> | void;

/**
 * Nest's NATS server, on the process's shared connection, in a queue group named after the
 * service. On close it stops taking new messages, then waits for in-flight handlers (bounded).
 * Subjects with a {@link DirectHandler} are answered by it, bypassing Nest's enhancer chain; a
 * payload holding text no field may hold is refused before it, as StorablePayloadPipe refuses it
 * on the subjects Nest handles.
 */
export class PorticoNatsServer extends ServerNats {
  constructor(
    private readonly link: NatsLink,
    queue: string,
    private readonly inFlight: InFlightTracker,
    private readonly graceMs: number,
    private readonly direct: DirectHandlers,
    private readonly log: Logger,
  ) {
    super({ queue, serializer: new ResponseLastSerializer() });
  }

  /**
   * A subject with a direct handler gets a plain callback: Nest's is an async function around
   * `handleMessage(...).catch(...)`, three promises per message before any work, which on the
   * hot subjects was a tenth of what a check allocates.
   */
  override getMessageHandler(channel: string): MessageCallback {
    const handler = this.direct.get(channel);
    if (!handler) return super.getMessageHandler(channel) as MessageCallback;
    return (error, message) => {
      if (error) {
        this.logger.error(error);
        return;
      }
      try {
        const packet = message.reply ? readPacket(message) : undefined;
        // Nest's own handling, as Nest would (its handleError takes what was thrown).
        if (!packet) return this.handleMessage(channel, message).catch((failure: unknown) => this.handleError(failure as string));
        this.answerDirectly(handler, packet, message);
      } catch (failure) {
        // Thrown here it would reach nats.js's socket reader, which stops reading the connection.
        this.log.error({ err: failure }, 'A message could not be answered');
      }
    };
  }

  /** Nest JSON-parses every incoming subject before using it as is; a plain subject makes that throw (and build a stack trace) per message. */
  override getRouteFromPattern(pattern: string): string {
    if (PLAIN_SUBJECT.test(pattern) && pattern !== 'true' && pattern !== 'false' && pattern !== 'null') return this.normalizePattern(pattern);
    return super.getRouteFromPattern(pattern);
  }

  override createNatsClient(): Promise<unknown> {
    return Promise.resolve(this.link.connection);
  }

  override async close(): Promise<void> {
    // Nest keeps the subscriptions private; stopping them is what "stop taking new work" means.
    const subscriptions = (this as unknown as { subscriptions: Subscription[] }).subscriptions ?? [];
    subscriptions.forEach((subscription) => subscription.unsubscribe());
    await this.inFlight.idle(drainTimeLeft(this.graceMs));
  }

  private answerDirectly(handler: DirectHandler, packet: Packet, message: Msg): void {
    let result: unknown;
    try {
      // The payload is walked only when its text could hold such input (rarely): the walk would cost an access.check ~10 %.
      // Nesting is left to the handler's own parser, which takes only its fixed shape and recurses nowhere.
      if (mayHoldUnstorableInput(packet.text)) assertStorablePayload(packet.data);
      result = handler(packet.data);
    } catch (error) {
      return this.replyFailure(message, packet.id, error);
    }
    if (!(result instanceof Promise)) return this.reply(message, { response: result, isDisposed: true, id: packet.id as string });
    // Only an answer that waits can still be running when a shutdown begins.
    this.inFlight.enter();
    result
      .then(
        (response: unknown) => this.reply(message, { response, isDisposed: true, id: packet.id as string }),
        (error: unknown) => this.replyFailure(message, packet.id, error),
      )
      .finally(() => this.inFlight.leave());
  }

  private replyFailure(message: Msg, id: unknown, error: unknown): void {
    this.reply(message, { err: toErrorPayload(error, this.log, requestIdOf(message)), isDisposed: true, id: id as string });
  }

  /** Written by the server's own serializer (reply-layout.ts), as Nest-handled subjects are. */
  private reply(message: Msg, packet: { response?: unknown; err?: unknown; isDisposed: true; id: string }): void {
    try {
      // As a Buffer: small ones share a pooled slab, where nats.js would encode a string into a new ArrayBuffer each time.
      message.respond(Buffer.from((this.serializer.serialize(packet) as { data: string }).data));
    } catch (error) {
      this.log.warn({ err: (error as Error).message, requestId: requestIdOf(message) }, 'Could not publish a reply');
    }
  }
}

/** The request id a message carries in its header, if it is an acceptable one (none when its headers cannot be read). */
function requestIdOf(message: Msg): string | undefined {
  try {
    return acceptRequestId(message.headers?.get(REQUEST_ID_HEADER));
  } catch {
    // nats.js decodes headers when first read, and throws on a malformed header name.
    return undefined;
  }
}

/** A request packet: its id, its payload, and the JSON text it was read from. */
interface Packet {
  id: unknown;
  data: unknown;
  text: string;
}

/** A request packet in Nest's format (`{ pattern, data, id }`), or undefined for anything else (left to Nest's own handling). */
function readPacket(message: Msg): Packet | undefined {
  try {
    const text = message.string();
    const packet: unknown = JSON.parse(text);
    if (typeof packet !== 'object' || packet === null || !('id' in packet) || packet.id === undefined) return undefined;
    return { id: packet.id, data: (packet as { data?: unknown }).data, text };
  } catch {
    return undefined;
  }
}

/** Runs each handler inside the request context (request id from the header) and counts it in flight. */
@Injectable()
export class RpcContextInterceptor implements NestInterceptor {
  constructor(private readonly inFlight: InFlightTracker) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const requestId = acceptRequestId(natsHeadersOf(context)?.get(REQUEST_ID_HEADER)) ?? randomUUID();
    this.inFlight.enter();
    // enterWith (not run + a wrapping Observable): the handler and everything it awaits see this
    // request's context; the next message sets its own before anything reads it.
    requestContext.enterWith({ requestId });
    return next.handle().pipe(finalize(() => this.inFlight.leave()));
  }
}

/**
 * The User-Agent the gateway passed on with this message (see USER_AGENT_HEADER), as it came: a
 * handler parameter (`@PassedOnUserAgent() userAgent: string | undefined`). A subject answered by a
 * direct handler (direct-handlers.ts) goes through no parameter decorator: it cannot take one.
 */
export const PassedOnUserAgent = createParamDecorator(
  (_data: unknown, context: ExecutionContext): string | undefined => natsHeadersOf(context)?.get(USER_AGENT_HEADER) || undefined,
);

/**
 * The NATS headers of the message a Nest handler is running for. Every handler of these services is
 * on NATS: anything else is a mistake of wiring, said at once rather than read as "no headers".
 */
export function natsHeadersOf(context: ExecutionContext): MsgHdrs | undefined {
  const rpc = context.switchToRpc().getContext<unknown>();
  if (!(rpc instanceof NatsContext)) throw new Error(`Not a NATS message context: ${String(rpc)}`);
  return rpc.getHeaders() as MsgHdrs | undefined;
}

/** Turns whatever a handler throws into an error payload with a code; unexpected errors are logged, never sent. */
@Catch()
export class RpcErrorFilter implements RpcExceptionFilter<unknown> {
  constructor(private readonly logger: Logger) {}

  catch(exception: unknown): Observable<never> {
    return throwError(() => toErrorPayload(exception, this.logger));
  }
}

/**
 * The error payload a handler's failure is answered with (503 when the database is unreachable, 409
 * when its transaction met another and was rolled back, 400 when it refused a value the validation
 * let through); unexpected errors are logged (with the request id), never sent.
 */
export function toErrorPayload(exception: unknown, logger: Logger, requestId?: string) {
  if (exception instanceof DomainError) return exception.toPayload();
  if (isValidationErrorList(exception)) return validationFailure(exception).toPayload();
  if (isDatabaseUnreachable(exception)) {
    logger.error({ err: exception, ...(requestId && { requestId }) }, 'The database is unreachable');
    // Lost in the middle of a write, the commit may have happened: the caller cannot take this 503 for "not done".
    return new DomainError(ErrorCode.ServiceUnavailable, 'Service temporarily unavailable, try again', { outcome: 'unknown' }).toPayload();
  }
  if (isTransactionConflict(exception)) {
    logger.warn({ err: exception, ...(requestId && { requestId }) }, 'A transaction met another one and was rolled back');
    return new DomainError(ErrorCode.Conflict, 'This change met another one at the same moment and was not made; try again', { retry: true }).toPayload();
  }
  const refusedValue = refusedValueOf(exception);
  if (refusedValue !== undefined) {
    logger.warn({ err: exception, ...(requestId && { requestId }) }, 'PostgreSQL refused a value that validation let through');
    return new DomainError(ErrorCode.ValidationFailed, `The database refused the request: ${refusedValue}`, { problems: [refusedValue] }).toPayload();
  }
  logger.error({ err: exception, ...(requestId && { requestId }) }, 'Unexpected error in a message handler');
  return new DomainError(ErrorCode.Internal, 'Internal error').toPayload();
}

function isValidationErrorList(value: unknown): value is Parameters<typeof describeValidationErrors>[0] {
  return Array.isArray(value) && value.length > 0 && typeof value[0] === 'object' && value[0] !== null && 'property' in value[0];
}

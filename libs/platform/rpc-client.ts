import { headers as natsHeaders, type Msg } from '@nats-io/transport-node';
import { DomainError, ErrorCode } from '#libs/errors/index.js';
import type { RpcRequest, RpcResponse, RpcSubject } from '#libs/contracts/index.js';
import type { NatsLink } from './nats-connection.js';
import { currentRequestId, REQUEST_ID_HEADER } from './request-context.js';

/** The reply a Nest NATS handler sends back. */
interface NestReply {
  response?: unknown;
  err?: unknown;
}

/**
 * Sends typed requests to the services' Nest NATS handlers. Every request has a timeout and
 * carries the request id as a header. No responder -> SERVICE_UNAVAILABLE at once; no answer in
 * time -> UPSTREAM_TIMEOUT; NATS down -> SERVICE_UNAVAILABLE at once (no waiting on a reconnect).
 */
export class RpcClient {
  private sequence = 0;
  private readonly idPrefix = Math.random().toString(36).slice(2, 8);

  constructor(
    private readonly link: NatsLink,
    private readonly defaultTimeoutMs: number,
  ) {}

  /** Sends `payload` on `subject` and resolves with the typed response, or rejects with a {@link DomainError}. */
  async send<S extends RpcSubject>(subject: S, payload: RpcRequest<S>, timeoutMs = this.defaultTimeoutMs): Promise<RpcResponse<S>> {
    if (!this.link.isUp()) throw new DomainError(ErrorCode.ServiceUnavailable, 'Messaging is unavailable, retry shortly');
    const reply = await this.request(subject, this.encode(subject, payload), timeoutMs);
    const decoded = reply.json<NestReply>();
    if (decoded.err !== undefined && decoded.err !== null) throw DomainError.fromPayload(decoded.err);
    return decoded.response as RpcResponse<S>;
  }

  private encode(subject: string, payload: unknown): string {
    this.sequence = (this.sequence + 1) % Number.MAX_SAFE_INTEGER;
    return JSON.stringify({ pattern: subject, data: payload, id: `${this.idPrefix}${this.sequence}` });
  }

  private async request(subject: string, body: string, timeout: number): Promise<Msg> {
    const headers = natsHeaders();
    const requestId = currentRequestId();
    if (requestId) headers.set(REQUEST_ID_HEADER, requestId);
    try {
      return await this.link.connection.request(subject, body, { timeout, headers });
    } catch (error) {
      throw translateTransportError(error, subject);
    }
  }
}

/** Turns a NATS client error into the domain error the gateway answers with. */
export function translateTransportError(error: unknown, subject: string): DomainError {
  const name = (error as Error)?.name ?? '';
  const noResponders =
    name === 'NoRespondersError' ||
    (typeof (error as { isNoResponders?: () => boolean }).isNoResponders === 'function' && (error as { isNoResponders: () => boolean }).isNoResponders());
  if (noResponders) return new DomainError(ErrorCode.ServiceUnavailable, `No service is answering ${subject}`);
  if (name === 'TimeoutError' || /timeout/i.test((error as Error)?.message ?? '')) {
    return new DomainError(ErrorCode.UpstreamTimeout, `${subject} did not answer in time`);
  }
  return new DomainError(ErrorCode.ServiceUnavailable, 'Messaging is unavailable, retry shortly');
}

import { headers as natsHeaders, type Msg } from '@nats-io/transport-node';
import { DomainError, ErrorCode } from '#libs/errors/index.js';
import type { RpcRequest, RpcResponse, RpcSubject } from '#libs/contracts/index.js';
import type { NatsLink } from './nats-connection.js';
import { RelayedJson } from './relayed-json.js';
import { responseBytesOf } from './reply-layout.js';
import { cleanUserAgent, currentRequestId, REQUEST_ID_HEADER, USER_AGENT_HEADER } from './request-context.js';
import { RequestFailure, RequestMux } from './request-mux.js';

/** What every message of one request carries in its headers. */
interface RequestStamp {
  requestId: string | undefined;
  userAgent: string | undefined;
}

/** The reply a Nest NATS handler sends back. */
interface NestReply {
  response?: unknown;
  err?: unknown;
}

/** Sends typed requests: the {@link RpcClient} itself, or one bound to a request ({@link RpcClient.forRequest}). */
export interface RpcSender {
  /** Sends `payload` on `subject` and resolves with the typed response, or rejects with a {@link DomainError}. */
  send<S extends RpcSubject>(subject: S, payload: RpcRequest<S>, timeoutMs?: number): Promise<RpcResponse<S>>;
  /**
   * Like {@link send}, but resolves with the response as the JSON bytes the service sent, for a
   * caller that hands it on unchanged (an HTTP route): nothing is parsed or written again.
   */
  relay<S extends RpcSubject>(subject: S, payload: RpcRequest<S>, timeoutMs?: number): Promise<RelayedJson<RpcResponse<S>>>;
  /** A sender of the same request whose messages also carry `userAgent`, cleaned (see USER_AGENT_HEADER in request-context.ts). */
  withUserAgent(userAgent: string): RpcSender;
}

/**
 * Sends typed requests to the services' Nest NATS handlers. Every request has a timeout and
 * carries the request id as a header. No responder -> SERVICE_UNAVAILABLE at once; no answer in
 * time -> UPSTREAM_TIMEOUT; NATS down -> SERVICE_UNAVAILABLE at once (no waiting on a reconnect).
 */
export class RpcClient implements RpcSender {
  private sequence = 0;
  private readonly idPrefix = Math.random().toString(36).slice(2, 8);
  private readonly mux: RequestMux;

  constructor(
    private readonly link: NatsLink,
    private readonly defaultTimeoutMs: number,
  ) {
    this.mux = new RequestMux(link.connection, link.inboxPrefix);
    link.onDisconnect(() => this.mux.failAll());
    void link.connection.closed().then(() => this.mux.failAll());
  }

  /** Sends `payload` on `subject` with the request id of the running request context (see request-context.ts), if any. */
  send<S extends RpcSubject>(subject: S, payload: RpcRequest<S>, timeoutMs?: number): Promise<RpcResponse<S>> {
    return this.forRequest(currentRequestId()).send(subject, payload, timeoutMs);
  }

  /** {@link RpcSender.relay}, with the request id of the running request context, if any. */
  relay<S extends RpcSubject>(subject: S, payload: RpcRequest<S>, timeoutMs?: number): Promise<RelayedJson<RpcResponse<S>>> {
    return this.forRequest(currentRequestId()).relay(subject, payload, timeoutMs);
  }

  /** {@link RpcSender.withUserAgent}, with the request id of the running request context, if any. */
  withUserAgent(userAgent: string): RpcSender {
    return this.forRequest(currentRequestId(), userAgent);
  }

  /**
   * A sender that stamps every request with `requestId` (if any), and with `userAgent` (if any,
   * cleaned) in USER_AGENT_HEADER: for a caller that passes its request along explicitly instead of
   * entering a request context (the gateway, whose hot path would otherwise pay for async context
   * tracking on every promise).
   */
  forRequest(requestId: string | undefined, userAgent?: string): RpcSender {
    const stamp: RequestStamp = { requestId, userAgent: cleanUserAgent(userAgent) };
    return {
      send: <S extends RpcSubject>(subject: S, payload: RpcRequest<S>, timeoutMs = this.defaultTimeoutMs) =>
        this.call(subject, payload, timeoutMs, stamp).then(decodeReply<RpcResponse<S>>),
      relay: <S extends RpcSubject>(subject: S, payload: RpcRequest<S>, timeoutMs = this.defaultTimeoutMs) =>
        this.call(subject, payload, timeoutMs, stamp).then(relayReply<RpcResponse<S>>),
      withUserAgent: (agent: string) => this.forRequest(requestId, agent),
    };
  }

  private async call(subject: RpcSubject, payload: unknown, timeoutMs: number, stamp: RequestStamp): Promise<Msg> {
    if (!this.link.isUp()) throw new DomainError(ErrorCode.ServiceUnavailable, 'Messaging is unavailable, retry shortly');
    return this.request(subject, this.encode(subject, payload), timeoutMs, stamp);
  }

  private encode(subject: string, payload: unknown): string {
    this.sequence = (this.sequence + 1) % Number.MAX_SAFE_INTEGER;
    return JSON.stringify({ pattern: subject, data: payload, id: `${this.idPrefix}${this.sequence}` });
  }

  private async request(subject: string, body: string, timeout: number, { requestId, userAgent }: RequestStamp): Promise<Msg> {
    const headers = natsHeaders();
    if (requestId) headers.set(REQUEST_ID_HEADER, requestId);
    if (userAgent) headers.set(USER_AGENT_HEADER, userAgent);
    try {
      return await this.mux.request(subject, body, { timeoutMs: timeout, headers });
    } catch (error) {
      throw translateTransportError(error);
    }
  }
}

/** The response of a reply, or the {@link DomainError} it carries. */
function decodeReply<T>(reply: Msg): T {
  const decoded = reply.json<NestReply>();
  if (decoded.err !== undefined && decoded.err !== null) throw DomainError.fromPayload(decoded.err);
  return decoded.response as T;
}

/** The response of a reply as JSON bytes: taken as they are when the service wrote it last (reply-layout.ts), else decoded and written again. */
function relayReply<T>(reply: Msg): RelayedJson<T> {
  const bytes = responseBytesOf(reply.data);
  if (bytes) return new RelayedJson<T>(bytes);
  return RelayedJson.of(decodeReply<T>(reply));
}

/** Turns a failed request into the domain error the gateway answers with: 503 when nobody listens or NATS is down, 504 on a timeout. */
function translateTransportError(error: unknown): DomainError {
  const kind = error instanceof RequestFailure ? error.kind : 'disconnected';
  switch (kind) {
    case 'no-responders':
      return new DomainError(ErrorCode.ServiceUnavailable, `No service is answering ${(error as RequestFailure).subject}`);
    case 'timeout':
      return new DomainError(ErrorCode.UpstreamTimeout, `${(error as RequestFailure).subject} did not answer in time`);
    case 'lost':
      return new DomainError(ErrorCode.UpstreamTimeout, `The connection dropped before ${(error as RequestFailure).subject} answered; it may have been done`);
    case 'disconnected':
      return new DomainError(ErrorCode.ServiceUnavailable, 'Messaging is unavailable, retry shortly');
  }
}

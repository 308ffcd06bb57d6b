import { AsyncLocalStorage } from 'node:async_hooks';

/** What is known of the request being served, anywhere down the call chain. */
export interface RequestContext {
  requestId: string;
}

/** Holds the {@link RequestContext} of the running request. */
export const requestContext = new AsyncLocalStorage<RequestContext>();

/** The header that carries the request id over HTTP and NATS. */
export const REQUEST_ID_HEADER = 'x-request-id';

/**
 * The NATS header that carries the User-Agent of a request that signs in or renews a session, from
 * the gateway to identity (a header, not a payload field: a service of the previous release
 * ignores it rather than refuse the request).
 */
export const USER_AGENT_HEADER = 'x-user-agent';

const ACCEPTABLE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** An incoming request id is kept only when it is short and plain (it ends up in logs and headers). */
export function acceptRequestId(candidate: unknown): string | undefined {
  return typeof candidate === 'string' && ACCEPTABLE_REQUEST_ID.test(candidate) ? candidate : undefined;
}

/** The request id of the running request, if any. */
export function currentRequestId(): string | undefined {
  return requestContext.getStore()?.requestId;
}

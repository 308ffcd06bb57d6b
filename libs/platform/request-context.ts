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
 * ignores it rather than refuse the request). Its value is a {@link cleanUserAgent}.
 */
export const USER_AGENT_HEADER = 'x-user-agent';

/** Longest User-Agent passed on and kept, in characters (a browser's is some 150). */
export const MAX_USER_AGENT_LENGTH = 512;

/**
 * A User-Agent as it is passed on and kept: control and format characters (line breaks, which a
 * NATS header cannot hold; bidirectional and zero-width marks, which would make a list misleading),
 * halves of surrogate pairs (no text: PostgreSQL refuses them in jsonb) and runs of white space
 * become one space, the ends are trimmed, and it is cut to {@link MAX_USER_AGENT_LENGTH}
 * characters (code points, so that no pair is cut in two); undefined when nothing is left. Never refused: a sign-in does not
 * fail for its User-Agent. What it says is the client's choice: shown, never trusted.
 */
export function cleanUserAgent(raw: string | undefined): string | undefined {
  if (!raw) return undefined;
  // Bounded first: a NATS client may send a header of up to the maximum payload.
  const text = Array.from(
    raw
      .slice(0, 4 * MAX_USER_AGENT_LENGTH)
      .replace(/[\p{Cc}\p{Cf}\p{Cs}\s]+/gu, ' ')
      .trim(),
  )
    .slice(0, MAX_USER_AGENT_LENGTH)
    .join('')
    .trim();
  return text === '' ? undefined : text;
}

const ACCEPTABLE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** An incoming request id is kept only when it is short and plain (it ends up in logs and headers). */
export function acceptRequestId(candidate: unknown): string | undefined {
  return typeof candidate === 'string' && ACCEPTABLE_REQUEST_ID.test(candidate) ? candidate : undefined;
}

/** The request id of the running request, if any. */
export function currentRequestId(): string | undefined {
  return requestContext.getStore()?.requestId;
}

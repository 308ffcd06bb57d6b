import { createInbox, type Msg, type MsgHdrs, type NatsConnection, type Subscription } from '@nats-io/transport-node';

/**
 * Why a {@link RequestMux} request failed: nobody listens; nobody answered in time; the
 * connection went away before it was sent (`disconnected`: safe to retry) or after (`lost`: it
 * may have been carried out).
 */
export type RequestFailureKind = 'no-responders' | 'timeout' | 'disconnected' | 'lost';

/** A request that got no reply: nobody listens, nobody answered in time, or the connection went away. */
export class RequestFailure extends Error {
  constructor(
    readonly kind: RequestFailureKind,
    readonly subject: string,
  ) {
    super(`${subject}: ${kind}`);
    this.name = 'RequestFailure';
  }
}

interface Pending {
  /** The last part of the reply subject: the slot, a dash, and the request's sequence number (base 36). */
  token: string;
  subject: string;
  resolve: (message: Msg) => void;
  reject: (error: unknown) => void;
  timer: NodeJS.Timeout;
  /** Handed to the connection (it may have reached the service). */
  sent: boolean;
}

interface Outgoing {
  token: string;
  subject: string;
  body: string | Uint8Array;
  headers: MsgHdrs | undefined;
}

/**
 * Request-reply over one wildcard inbox subscription, with one timer per request and nothing
 * else. nats.js's own `request()` builds up to three Error objects (with stack traces) per
 * call, which on a busy gateway cost more CPU than the rest of the request path; this keeps
 * the same wire behaviour (reply subject, headers, the server's 503 no-responders status).
 *
 * Requests made during one turn of the event loop are published together at its end
 * (setImmediate), so they leave in one socket write: nats.js writes once per microtask
 * checkpoint, which on a busy gateway meant one write system call per HTTP request.
 *
 * Waiting requests sit in reused slots of an array, not in a Map: a long-lived Map that gets one
 * insert and one delete per request reallocates its hash table every few requests, and V8
 * allocates the table of an old Map directly in old space, so the gateway filled old space at
 * every request and paid a full mark-compact about once a second under load.
 */
export class RequestMux {
  private readonly inbox: string;
  /** Waiting requests by slot; a settled request's slot goes to `freeSlots` for the next one. */
  private readonly slots: Array<Pending | undefined> = [];
  private readonly freeSlots: number[] = [];
  private inFlight = 0;
  private readonly subscription: Subscription;
  private sequence = 0;
  private outgoing: Outgoing[] = [];

  /** `inboxPrefix`: the connection's own (nats.js's `_INBOX` by default), so that replies come where the NATS user may read them. */
  constructor(
    private readonly connection: NatsConnection,
    inboxPrefix?: string,
  ) {
    this.inbox = `${createInbox(inboxPrefix)}.`;
    this.subscription = connection.subscribe(`${this.inbox}*`, { callback: (error, message) => this.dispatch(error, message) });
  }

  /** Publishes `body` on `subject` and resolves with the first reply, or rejects with a {@link RequestFailure}. */
  request(subject: string, body: string | Uint8Array, options: { timeoutMs: number; headers?: MsgHdrs }): Promise<Msg> {
    this.sequence = (this.sequence + 1) % Number.MAX_SAFE_INTEGER;
    const slot = this.freeSlots.pop() ?? this.slots.length;
    const token = `${slot.toString(36)}-${this.sequence.toString(36)}`;
    return new Promise<Msg>((resolve, reject) => {
      const timer = setTimeout(() => this.settle(token)?.reject(new RequestFailure('timeout', subject)), options.timeoutMs);
      this.slots[slot] = { token, subject, resolve, reject, timer, sent: false };
      this.inFlight += 1;
      if (this.outgoing.length === 0) setImmediate(() => this.publishOutgoing());
      this.outgoing.push({ token, subject, body, headers: options.headers });
    });
  }

  /** Fails every request still waiting (the connection dropped or closed: their replies may never come). */
  failAll(): void {
    for (const waiting of this.slots) {
      const pending = waiting && this.settle(waiting.token);
      pending?.reject(new RequestFailure(pending.sent ? 'lost' : 'disconnected', pending.subject));
    }
  }

  /** How many requests are waiting for a reply. */
  get waiting(): number {
    return this.inFlight;
  }

  /** Stops listening for replies and fails what is still waiting. */
  close(): void {
    this.subscription.unsubscribe();
    this.failAll();
  }

  /** Publishes what this turn of the event loop asked for (nats.js then writes it in one go). */
  private publishOutgoing(): void {
    const batch = this.outgoing;
    this.outgoing = [];
    for (const { token, subject, body, headers } of batch) {
      const pending = this.find(token);
      if (!pending) continue;
      try {
        this.connection.publish(subject, body, { reply: this.inbox + token, headers });
        pending.sent = true;
      } catch (error) {
        this.settle(token)?.reject(error);
      }
    }
  }

  private dispatch(error: Error | null, message: Msg): void {
    if (error) return this.failAll();
    const pending = this.settle(message.subject.slice(this.inbox.length));
    if (!pending) return;
    if (message.data.length === 0 && message.headers?.code === 503) return pending.reject(new RequestFailure('no-responders', pending.subject));
    pending.resolve(message);
  }

  /** The request waiting under `token`; undefined for a settled one, or a token this mux never gave out. */
  private find(token: string): Pending | undefined {
    const pending = this.slots[slotOf(token)];
    return pending?.token === token ? pending : undefined;
  }

  private settle(token: string): Pending | undefined {
    const pending = this.find(token);
    if (!pending) return undefined;
    const slot = slotOf(token);
    this.slots[slot] = undefined;
    this.freeSlots.push(slot);
    this.inFlight -= 1;
    clearTimeout(pending.timer);
    return pending;
  }
}

/** The slot a reply token names (NaN for one that names none). */
function slotOf(token: string): number {
  const dash = token.indexOf('-');
  return dash > 0 ? Number.parseInt(token.slice(0, dash), 36) : Number.NaN;
}

import type { Msg } from '@nats-io/transport-node';
import { pino } from 'pino';
import { QueryFailedError } from 'typeorm';
import { DomainError, ErrorCode } from '#libs/errors/index.js';
import { DirectHandlers } from './direct-handlers.js';
import { InFlightTracker } from './in-flight.js';
import type { NatsLink } from './nats-connection.js';
import { responseBytesOf } from './reply-layout.js';
import { PorticoNatsServer } from './rpc-server.js';

const SUBJECT = 'test.direct';

/** A server answering SUBJECT with `handler` directly, the replies it sent, and what it holds in flight. */
function serve(handler: (payload: unknown) => unknown, graceMs = 5_000) {
  const direct = new DirectHandlers();
  direct.register(SUBJECT, handler);
  const inFlight = new InFlightTracker();
  /** What the server logged at error level or above. */
  const logged: string[] = [];
  const log = pino({ level: 'error' }, { write: (line: string) => void logged.push(line) });
  const server = new PorticoNatsServer({} as NatsLink, 'test', inFlight, graceMs, direct, log);
  const replies: string[] = [];
  /** Whether each reply was handed over as a Buffer (a string would cost nats.js a new ArrayBuffer to encode). */
  const asBuffer: boolean[] = [];
  /** Sends `data` as the subscription would hand it over (`changes` alter the message). */
  const ask = (data: unknown, changes: object = {}, error: Error | null = null) => {
    const message = Object.defineProperties(
      {
        subject: SUBJECT,
        reply: '_INBOX.test.1',
        headers: undefined,
        string: () => JSON.stringify({ pattern: SUBJECT, data, id: 'r1' }),
        respond: (payload: Uint8Array) => asBuffer.push(Buffer.isBuffer(payload)) > 0 && replies.push(Buffer.from(payload).toString()) > 0,
      },
      Object.getOwnPropertyDescriptors(changes),
    );
    return server.getMessageHandler(SUBJECT)(error, message as unknown as Msg);
  };
  return { server, inFlight, replies, asBuffer, ask, logged };
}

/** A promise and the functions that settle it. */
function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((ok, fail) => ((resolve = ok), (reject = fail)));
  return { promise, resolve, reject };
}

describe('PorticoNatsServer direct handlers', () => {
  it('answers at once, with the response last so that a relay can take its bytes', async () => {
    const { ask, replies, asBuffer, inFlight } = serve((payload) => ({ echoed: payload }));
    await ask({ a: 1 });
    expect(inFlight.size).toBe(0);
    expect(JSON.parse(replies[0])).toEqual({ isDisposed: true, id: 'r1', response: { echoed: { a: 1 } } });
    expect(Buffer.from(responseBytesOf(Buffer.from(replies[0]))!).toString()).toBe('{"echoed":{"a":1}}');
    expect(asBuffer).toEqual([true]);
  });

  it('holds an answer that waits in flight, and a shutdown waits for it before closing', async () => {
    const answer = deferred<string>();
    const { server, ask, replies, inFlight } = serve(() => answer.promise);
    await ask({});
    expect(inFlight.size).toBe(1);
    let closed = false;
    const closing = server.close().then(() => (closed = true));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(closed).toBe(false);
    answer.resolve('done');
    await closing;
    expect(inFlight.size).toBe(0);
    expect(JSON.parse(replies[0])).toEqual({ isDisposed: true, id: 'r1', response: 'done' });
  });

  it('answers a failure with its error payload, thrown at once or after waiting, and leaves nothing in flight', async () => {
    const later = deferred<never>();
    const { ask, replies, inFlight } = serve((payload) => {
      if (payload === 'now') throw new DomainError(ErrorCode.ValidationFailed, 'bad now');
      return later.promise;
    });
    await ask('now');
    await ask('later');
    later.reject(new DomainError(ErrorCode.NotFound, 'gone'));
    await new Promise((resolve) => setImmediate(resolve));
    expect(inFlight.size).toBe(0);
    expect(replies.map((reply) => JSON.parse(reply) as unknown)).toEqual([
      { err: { code: 'VALIDATION_FAILED', message: 'bad now' }, isDisposed: true, id: 'r1' },
      { err: { code: 'NOT_FOUND', message: 'gone' }, isDisposed: true, id: 'r1' },
    ]);
  });

  it('answers 503 SERVICE_UNAVAILABLE (outcome unknown: a write may have been committed), not 500, when the database cannot be reached; 500 INTERNAL for anything else unexpected (F2)', async () => {
    const { ask, replies } = serve((payload) => {
      throw payload === 'down' ? Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }) : new TypeError('a bug');
    });
    await ask('down');
    await ask('bug');
    expect(replies.map((reply) => (JSON.parse(reply) as { err: unknown }).err)).toEqual([
      { code: 'SERVICE_UNAVAILABLE', message: 'Service temporarily unavailable, try again', details: { outcome: 'unknown' } },
      { code: 'INTERNAL', message: 'Internal error' },
    ]);
  });

  it('answers 409 CONFLICT to try again, not 500, when PostgreSQL rolled the transaction back for meeting another (deadlock, serialization)', async () => {
    const { ask, replies } = serve((payload) => {
      throw new QueryFailedError('UPDATE ...', [], Object.assign(new Error('deadlock detected'), { code: payload }));
    });
    await ask('40P01');
    await ask('40001');
    const conflict = { code: 'CONFLICT', message: 'This change met another one at the same moment and was not made; try again', details: { retry: true } };
    expect(replies.map((reply) => (JSON.parse(reply) as { err: unknown }).err)).toEqual([conflict, conflict]);
  });

  it('answers 400 VALIDATION_FAILED naming what is wrong, not 500, when PostgreSQL refused a value the validation let through (too long, out of range, malformed); other data exceptions stay 500s', async () => {
    const { ask, replies, logged } = serve((payload) => {
      const [code, message] = payload as [string, string];
      throw new QueryFailedError('INSERT ...', [], Object.assign(new Error(message), { code }));
    });
    await ask(['22001', 'value too long for type character varying(100)']);
    await ask(['22P02', 'invalid input syntax for type integer: "stored"']);
    await ask(['22012', 'division by zero']);
    await ask(['23502', 'null value in column "name" violates not-null constraint']);
    const refused = (problem: string) => ({
      code: 'VALIDATION_FAILED',
      message: `The database refused the request: ${problem}`,
      details: { problems: [problem] },
    });
    expect(replies.map((reply) => (JSON.parse(reply) as { err: unknown }).err)).toEqual([
      refused('a value is longer than its field allows'),
      refused('a value is not of the form its field takes'),
      { code: 'INTERNAL', message: 'Internal error' },
      { code: 'INTERNAL', message: 'Internal error' },
    ]);
    // PostgreSQL's words (which may quote a stored value) are not passed on; the bugs are logged as errors.
    expect(replies.join('')).not.toContain('stored');
    expect(logged).toHaveLength(2);
  });

  it('refuses a payload holding a NUL, a lone surrogate or a field named __proto__ with 400 VALIDATION_FAILED naming the field, before the handler sees it', async () => {
    const seen: unknown[] = [];
    const { ask, replies } = serve((payload) => seen.push(payload));
    await ask({ principal: { type: 'user', id: 'x' }, section: 'logs\u0000' });
    await ask({ checks: [{ action: 'read\ud800' }] });
    await ask(JSON.parse('{"principal":{"__proto__":{"type":"user"}}}'));
    expect(seen).toEqual([]);
    expect(replies.map((reply) => (JSON.parse(reply) as { err: unknown }).err)).toEqual([
      { code: 'VALIDATION_FAILED', message: 'section: must not contain a NUL character', details: { field: 'section' } },
      { code: 'VALIDATION_FAILED', message: 'checks.0.action: must be valid Unicode text (it holds a lone surrogate)', details: { field: 'checks.0.action' } },
      { code: 'VALIDATION_FAILED', message: 'principal.__proto__: should not exist', details: { field: 'principal.__proto__' } },
    ]);
  });

  it('hands the handler a payload with escapes that are fine (a pair, a tab) as parsed', async () => {
    const { ask, replies } = serve((payload) => payload);
    await ask({ name: 'emoji \ud83d\ude00\t\u00e9' });
    expect(JSON.parse(replies[0])).toMatchObject({ response: { name: 'emoji \ud83d\ude00\t\u00e9' } });
  });

  it('never lets a failure reach the NATS connection reader: unreadable headers, a message that cannot be read, an error from the subscription', () => {
    const seen: unknown[] = [];
    const { ask, replies, logged } = serve((payload) => {
      seen.push(payload);
      throw new DomainError(ErrorCode.ValidationFailed, 'bad');
    });
    const unreadable = () => {
      throw new Error('malformed header name');
    };
    expect(() =>
      ask('headers', {
        get headers() {
          return unreadable();
        },
      }),
    ).not.toThrow();
    expect(() =>
      ask('reply', {
        get reply() {
          return unreadable();
        },
      }),
    ).not.toThrow();
    expect(() => ask('error', {}, new Error('subscription failed'))).not.toThrow();
    expect(seen).toEqual(['headers']);
    expect(replies.map((reply) => (JSON.parse(reply) as { err: unknown }).err)).toEqual([{ code: 'VALIDATION_FAILED', message: 'bad' }]);
    expect(logged.map((line) => (JSON.parse(line) as { msg: string }).msg)).toEqual(['A message could not be answered']);
  });

  it('leaves a message without a reply subject to Nest, not to the direct handler', async () => {
    const seen: unknown[] = [];
    const { ask, replies } = serve((payload) => seen.push(payload));
    await ask('an event', { reply: '' });
    expect([seen, replies]).toEqual([[], []]);
  });

  it('stops waiting for an answer that never comes once the grace period is over', async () => {
    const { server, ask, inFlight } = serve(() => new Promise(() => undefined), 50);
    await ask({});
    const started = Date.now();
    await server.close();
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
    expect(inFlight.size).toBe(1);
  });
});

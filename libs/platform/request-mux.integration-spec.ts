import { connect, type NatsConnection } from '@nats-io/transport-node';
import { TestNatsServer } from '#libs/testing/nats-server.js';
import { RequestFailure, RequestMux } from './request-mux.js';

const server = new TestNatsServer();
let responder: NatsConnection;
let requester: NatsConnection;

beforeAll(async () => {
  await server.start();
  responder = await connect({ servers: server.url });
  requester = await connect({ servers: server.url });
  // Echoes the body back, upper-cased, after a delay given in the body ("text:delayMs").
  responder.subscribe('mux.echo', {
    callback: (_error, message) => {
      const [text, delay] = message.string().split(':');
      setTimeout(() => message.respond(text.toUpperCase()), Number(delay ?? 0));
    },
  });
  responder.subscribe('mux.silent', { callback: () => undefined });
  await responder.flush();
});

afterAll(async () => {
  await requester?.close();
  await responder?.close();
  await server.destroy();
});

async function failureOf(promise: Promise<unknown>): Promise<RequestFailure> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof RequestFailure) return error;
    throw error;
  }
  throw new Error('the request did not fail');
}

describe('RequestMux on a real NATS server', () => {
  it('hands every reply to its own caller when many requests of one turn leave together and come back out of order', async () => {
    const mux = new RequestMux(requester);
    const words = Array.from({ length: 200 }, (_, i) => `word${i}`);
    const replies = await Promise.all(words.map((word, i) => mux.request('mux.echo', `${word}:${(i * 7) % 20}`, { timeoutMs: 5000 })));
    expect(replies.map((reply) => reply.string())).toEqual(words.map((word) => word.toUpperCase()));
    expect(mux.waiting).toBe(0);
    mux.close();
  });

  it('says no-responders at once when nobody listens, and timeout when nobody answers in time', async () => {
    const mux = new RequestMux(requester);
    const nobody = await failureOf(mux.request('mux.nobody-here', 'x', { timeoutMs: 5000 }));
    expect([nobody.kind, nobody.subject]).toEqual(['no-responders', 'mux.nobody-here']);
    const silent = await failureOf(mux.request('mux.silent', 'x', { timeoutMs: 100 }));
    expect(silent.kind).toBe('timeout');
    expect(mux.waiting).toBe(0);
    mux.close();
  });

  it('never hands a late reply to a newer request that took the slot of the one it answers', async () => {
    const mux = new RequestMux(requester);
    expect((await failureOf(mux.request('mux.echo', 'first:300', { timeoutMs: 100 }))).kind).toBe('timeout');
    // Made while the first's reply is still on its way, in the slot the first has left.
    const second = await mux.request('mux.echo', 'second:600', { timeoutMs: 5000 });
    expect(second.string()).toBe('SECOND');
    expect(mux.waiting).toBe(0);
    mux.close();
  });

  it('fails what is waiting when closed (lost once sent, disconnected before), and never publishes a request that failed before its turn ended', async () => {
    const seen: string[] = [];
    const counter = await connect({ servers: server.url });
    counter.subscribe('mux.counted', { callback: (_error, message) => void seen.push(message.string()) });
    await counter.flush();
    const mux = new RequestMux(requester);
    const waiting = mux.request('mux.echo', 'slow:2000', { timeoutMs: 5000 });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const unsent = mux.request('mux.counted', 'never', { timeoutMs: 5000 });
    mux.close();
    expect((await failureOf(waiting)).kind).toBe('lost');
    expect((await failureOf(unsent)).kind).toBe('disconnected');
    await requester.flush();
    await counter.flush();
    expect(seen).toEqual([]);
    await counter.close();
  });
});

import { connect, type NatsConnection } from '@nats-io/transport-node';
import { RequestMux } from '#libs/platform/request-mux.js';

/** What a Nest NATS handler answers. */
export interface RawReply {
  response?: unknown;
  err?: { code?: string; message?: string };
}

/** A bare NATS requester for tests: sends any payload (also malformed ones) the way the services' client does. */
export class TestNatsRequester {
  private readonly mux: RequestMux;
  private sequence = 0;

  private constructor(private readonly connection: NatsConnection) {
    this.mux = new RequestMux(connection);
  }

  static async open(url: string): Promise<TestNatsRequester> {
    return new TestNatsRequester(await connect({ servers: url }));
  }

  /** Sends `data` as a Nest request packet on `subject` and returns the decoded reply. */
  async send(subject: string, data: unknown, timeout = 5000): Promise<RawReply> {
    this.sequence += 1;
    const message = await this.mux.request(subject, JSON.stringify({ pattern: subject, data, id: `t${this.sequence}` }), { timeoutMs: timeout });
    return message.json<RawReply>();
  }

  /** Sends raw bytes (not even JSON). */
  async sendRaw(subject: string, body: string, timeout = 5000): Promise<string> {
    return (await this.mux.request(subject, body, { timeoutMs: timeout })).string();
  }

  async close(): Promise<void> {
    this.mux.close();
    await this.connection.close();
  }
}

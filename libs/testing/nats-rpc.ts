import { connect, type NatsConnection } from '@nats-io/transport-node';

/** What a Nest NATS handler answers. */
export interface RawReply {
  response?: unknown;
  err?: { code?: string; message?: string };
}

/** A bare NATS requester for tests: sends any payload (also malformed ones) the way the services' client does. */
export class TestNatsRequester {
  private constructor(private readonly connection: NatsConnection) {}

  static async open(url: string): Promise<TestNatsRequester> {
    return new TestNatsRequester(await connect({ servers: url }));
  }

  /** Sends `data` as a Nest request packet on `subject` and returns the decoded reply. */
  async send(subject: string, data: unknown, timeout = 5000): Promise<RawReply> {
    const message = await this.connection.request(subject, JSON.stringify({ pattern: subject, data, id: `t${Math.random()}` }), { timeout });
    return message.json<RawReply>();
  }

  /** Sends raw bytes (not even JSON). */
  async sendRaw(subject: string, body: string, timeout = 5000): Promise<string> {
    return (await this.connection.request(subject, body, { timeout })).string();
  }

  async close(): Promise<void> {
    await this.connection.close();
  }
}

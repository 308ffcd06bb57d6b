import { createServer, type AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { eventually } from '#libs/testing/eventually.js';
import type { NotificationsConfig } from '../notifications.config.js';
import { Mailer } from './mailer.js';
import type { RenderedMail } from './mail-renderer.js';

/** An SMTP server that takes the whole message and then answers it after `acceptAfterMs`, or never (a stalled relay). */
class StalledServer {
  dataReceived = false;
  accepted = 0;
  /** The messages received, as the server got them. */
  readonly messages: string[] = [];
  private readonly server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    closeTimeout: 100,
    onData: (stream, _session, callback) => {
      let message = '';
      stream.on('data', (chunk: Buffer) => (message += chunk.toString()));
      stream.on('end', () => {
        this.dataReceived = true;
        this.messages.push(message);
        if (this.acceptAfterMs !== null) setTimeout(() => (this.accepted++, callback()), this.acceptAfterMs);
      });
    },
  });

  constructor(private readonly acceptAfterMs: number | null = null) {}

  async start(): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return (this.server.server.address() as AddressInfo).port;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** A mailer of the server on `port`, with the timeouts given. */
function mailerOf(port: number, timeouts: Pick<NotificationsConfig, 'SMTP_TIMEOUT_MS' | 'MAIL_SEND_DEADLINE_MS'>): Mailer {
  return new Mailer({
    SMTP_URL: `smtp://127.0.0.1:${port}`,
    SMTP_REQUIRE_TLS: false,
    SMTP_TLS_REJECT_UNAUTHORIZED: true,
    SMTP_TLS_CA_FILE: '-',
    SMTP_POOL_SIZE: 1,
    MAIL_FROM: 'Portico <no-reply@portico.test>',
    ...timeouts,
  } as NotificationsConfig);
}

const mail: RenderedMail = { template: 'activation', locale: 'en', to: 'ada@example.com', subject: 'Hello', text: 'Hello', html: '<p>Hello</p>' };

describe('Mailer', () => {
  const server = new StalledServer();
  let mailer: Mailer;

  beforeAll(async () => {
    const port = await server.start();
    mailer = mailerOf(port, { SMTP_TIMEOUT_MS: 60_000, MAIL_SEND_DEADLINE_MS: 120_000 });
  });
  afterAll(async () => {
    mailer.onModuleDestroy();
    await server.stop();
  });

  it('gives up a send when its signal aborts, even while the server sits on the message', async () => {
    const stop = new AbortController();
    const sending = mailer.send(mail, mailer.messageIdFor('0b7e9a52-5f0e-4a53-b3c4-1a2b3c4d5e6f'), stop.signal);
    const outcome = sending.then(
      () => null,
      (error: { code?: string }) => error,
    );
    await eventually('the server to have the whole message', () => server.dataReceived, 10_000, 10);
    stop.abort(new Error('deadline'));
    await expect(outcome).resolves.toMatchObject({ code: 'EABORT' });
  });
});

describe('Mailer timeouts', () => {
  const TIMEOUT_MS = 1000;

  it('gives up any silence after SMTP_TIMEOUT_MS, the reply to the data too (a connection cut without a word holds no sending slot for minutes)', async () => {
    const server = new StalledServer();
    const mailer = mailerOf(await server.start(), { SMTP_TIMEOUT_MS: TIMEOUT_MS, MAIL_SEND_DEADLINE_MS: 30 * TIMEOUT_MS });
    const began = Date.now();
    try {
      await expect(mailer.send(mail, mailer.messageIdFor('5d1c9b0e-2f4a-4c8e-9a51-0c2b7e6f1d3a'), new AbortController().signal)).rejects.toMatchObject({
        code: 'ETIMEDOUT',
      });
      expect(server.dataReceived).toBe(true);
      expect(Date.now() - began).toBeLessThan(5 * TIMEOUT_MS);
    } finally {
      mailer.onModuleDestroy();
      await server.stop();
    }
  });

  it('still gives up a server that does not greet after SMTP_TIMEOUT_MS', async () => {
    const silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const mailer = mailerOf((silent.address() as AddressInfo).port, { SMTP_TIMEOUT_MS: TIMEOUT_MS, MAIL_SEND_DEADLINE_MS: 30 * TIMEOUT_MS });
    const began = Date.now();
    try {
      await expect(mailer.send(mail, mailer.messageIdFor('8e2f0a61-3b5c-4d7e-8f90-1a2b3c4d5e6f'), new AbortController().signal)).rejects.toMatchObject({
        code: 'ETIMEDOUT',
      });
      expect(Date.now() - began).toBeLessThan(5 * TIMEOUT_MS);
    } finally {
      mailer.onModuleDestroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});

describe('Mailer subjects', () => {
  it.each([
    ['Welcome to =?utf-8?Q?Bank=20of=20X?=', 'a name written like an encoded-word'],
    ['Welcome to Société =?utf-8?B?SGVsbG8=?= ' + 'x'.repeat(80), 'one with other text to encode, long'],
    ['Welcome to Acme', 'a plain one'],
  ])('%j (%s) reaches the server as a Subject that decodes to it, letter for letter', async (subject) => {
    const server = new StalledServer(0);
    const mailer = mailerOf(await server.start(), { SMTP_TIMEOUT_MS: 5000, MAIL_SEND_DEADLINE_MS: 10_000 });
    try {
      await mailer.send({ ...mail, subject }, mailer.messageIdFor('3c4d5e6f-7a8b-4c9d-8e0f-1a2b3c4d5e6f'), new AbortController().signal);
      const header = /^Subject: (.*(?:\r?\n[ \t].*)*)/m.exec(server.messages[0])![1];
      expect(decodeWords(header.replace(/\r?\n[ \t]/g, ' '))).toBe(subject);
      if (subject.includes('=?')) expect(header).toMatch(/^=\?UTF-8\?Q\?/);
    } finally {
      mailer.onModuleDestroy();
      await server.stop();
    }
  });
});

/** An unfolded header value as a mail client shows it: each RFC 2047 encoded-word decoded, the space between two of them dropped. */
function decodeWords(value: string): string {
  return value.replace(/(\?=)\s+(=\?)/g, '$1$2').replace(/=\?UTF-8\?Q\?([^?]*)\?=/gi, (_word, text: string) =>
    Buffer.from(
      text.replace(/_/g, ' ').replace(/=([0-9A-F]{2})/gi, (_hex, code: string) => String.fromCharCode(parseInt(code, 16))),
      'latin1',
    ).toString('utf8'),
  );
}

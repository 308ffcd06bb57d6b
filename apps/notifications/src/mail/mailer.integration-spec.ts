import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { eventually } from '#libs/testing/eventually.js';
import type { NotificationsConfig } from '../notifications.config.js';
import { Mailer } from './mailer.js';
import type { RenderedMail } from './mail-renderer.js';

/** An SMTP server that takes the whole message and then never answers it (a stalled relay). */
class StalledServer {
  dataReceived = false;
  private readonly server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    closeTimeout: 100,
    onData: (stream) => {
      stream.on('end', () => (this.dataReceived = true));
      stream.resume();
    },
  });

  async start(): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return (this.server.server.address() as AddressInfo).port;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

const mail: RenderedMail = { template: 'activation', locale: 'en', to: 'ada@example.com', subject: 'Hello', text: 'Hello', html: '<p>Hello</p>' };

describe('Mailer', () => {
  const server = new StalledServer();
  let mailer: Mailer;

  beforeAll(async () => {
    const port = await server.start();
    mailer = new Mailer({
      SMTP_URL: `smtp://127.0.0.1:${port}`,
      SMTP_REQUIRE_TLS: false,
      SMTP_TLS_REJECT_UNAUTHORIZED: true,
      SMTP_TLS_CA_FILE: '-',
      SMTP_POOL_SIZE: 1,
      SMTP_TIMEOUT_MS: 60_000,
      MAIL_FROM: 'Portico <no-reply@portico.test>',
    } as NotificationsConfig);
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

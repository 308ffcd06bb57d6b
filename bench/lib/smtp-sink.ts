import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

/**
 * A local SMTP server that accepts everything and keeps, per mail, only its Message-ID (read from
 * the headers as they stream by), so that the bench measures the sender rather than a parser.
 */
export class SmtpSink {
  readonly messageIds: string[] = [];
  readonly firstAt: number[] = [];
  private server: SMTPServer | undefined;
  private waiters: Array<{ count: number; resolve: () => void }> = [];
  port = 0;

  async start(): Promise<number> {
    this.server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      closeTimeout: 200,
      size: 1024 * 1024,
      onData: (stream, _session, callback) => {
        let head = '';
        let found = false;
        stream.on('data', (chunk: Buffer) => {
          if (found || head.length > 64 * 1024) return;
          head += chunk.toString('latin1');
          const match = /^message-id:\s*(<[^>\r\n]+>)/im.exec(head);
          if (match) {
            found = true;
            this.messageIds.push(match[1]);
          }
        });
        stream.on('end', () => {
          if (!found) this.messageIds.push('');
          this.wake();
          callback();
        });
      },
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.server.address() as AddressInfo).port;
    return this.port;
  }

  /** Resolves once `count` mails arrived. */
  waitFor(count: number): Promise<void> {
    if (this.messageIds.length >= count) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ count, resolve }));
  }

  reset(): void {
    this.messageIds.length = 0;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private wake(): void {
    const received = this.messageIds.length;
    this.waiters = this.waiters.filter((waiter) => {
      if (received < waiter.count) return true;
      waiter.resolve();
      return false;
    });
  }
}

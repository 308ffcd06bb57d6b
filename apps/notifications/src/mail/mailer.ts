import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import nodemailer, { type Transporter } from 'nodemailer';
import { CONFIG } from '#libs/platform/index.js';
import type { NotificationsConfig } from '../notifications.config.js';
import type { RenderedMail } from './templates.js';

/** Sends mail over SMTP (`SMTP_URL`), from `MAIL_FROM`. */
@Injectable()
export class Mailer implements OnModuleDestroy {
  private readonly transport: Transporter;

  constructor(@Inject(CONFIG) private readonly config: NotificationsConfig) {
    this.transport = nodemailer.createTransport(config.SMTP_URL);
  }

  /** Hands one mail to the SMTP server; resolves once it accepted it. */
  async send(mail: RenderedMail, messageId: string): Promise<void> {
    await this.transport.sendMail({
      from: this.config.MAIL_FROM,
      to: mail.to,
      subject: mail.subject,
      text: mail.text,
      html: mail.html,
      messageId: `<${messageId}@portico>`,
    });
  }

  onModuleDestroy(): void {
    this.transport.close();
  }
}

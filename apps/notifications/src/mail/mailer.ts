import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { readFileSync } from 'node:fs';
import nodemailer, { type Transporter } from 'nodemailer';
import { encodeWord } from 'nodemailer/lib/mime-funcs';
import type SMTPPool from 'nodemailer/lib/smtp-pool/index.js';
import { CONFIG } from '#libs/platform/index.js';
import type { NotificationsConfig } from '../notifications.config.js';
import type { RenderedMail } from './mail-renderer.js';

/** Hands mails to an SMTP server. */
export abstract class MailSender {
  /**
   * Resolves once the server accepted the mail; rejects with nodemailer's error (`responseCode`,
   * `code`, `command`) otherwise, and as soon as `signal` aborts (the connection in use is closed:
   * the server may still have accepted the mail if it had all of it).
   */
  abstract send(mail: RenderedMail, messageId: string, signal: AbortSignal): Promise<void>;
  /**
   * The Message-ID header of a mail, from its key (`deliveryKey`: its event's id, unless the event
   * makes several mails): the same on every attempt, so a duplicate is recognisable.
   */
  abstract messageIdFor(eventId: string): string;
}

/** The nodemailer options for SMTP_URL and the SMTP_* variables. */
export function smtpOptions(config: NotificationsConfig): SMTPPool.Options {
  const url = new URL(config.SMTP_URL);
  const secure = url.protocol === 'smtps:';
  const ca = config.SMTP_TLS_CA_FILE === '-' ? undefined : readFileSync(config.SMTP_TLS_CA_FILE, 'utf8');
  return {
    pool: true,
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port: Number(url.port || (secure ? 465 : 587)),
    secure,
    requireTLS: config.SMTP_REQUIRE_TLS,
    auth: url.username ? { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) } : undefined,
    tls: { rejectUnauthorized: config.SMTP_TLS_REJECT_UNAUTHORIZED, ca, servername: url.hostname },
    maxConnections: config.SMTP_POOL_SIZE,
    maxMessages: 1000,
    connectionTimeout: config.SMTP_TIMEOUT_MS,
    greetingTimeout: config.SMTP_TIMEOUT_MS,
    socketTimeout: config.SMTP_TIMEOUT_MS,
  };
}

/**
 * The Subject header of a subject. One holding `=?` (a name written like an RFC 2047 encoded-word,
 * `=?utf-8?Q?Bank=20of=20X?=`) is encoded whole: sent as it is, mail clients would decode it in
 * the subject (to "Bank of X", or anything else) while the body shows it literally. Otherwise
 * nodemailer encodes it as it needs.
 */
export function subjectHeader(subject: string): string | { prepared: true; foldLines: true; value: string } {
  return subject.includes('=?') ? { prepared: true, foldLines: true, value: encodeWord(subject, 'Q', 52) } : subject;
}

/** The domain of MAIL_FROM, for Message-IDs (`<event id@domain>`). */
export function senderDomain(mailFrom: string): string {
  return /@([^\s>]+)\s*>?\s*$/.exec(mailFrom)?.[1] ?? 'portico.local';
}

/** Sends mail over SMTP (`SMTP_URL`, a pool of SMTP_POOL_SIZE connections), from `MAIL_FROM`. */
@Injectable()
export class Mailer extends MailSender implements OnModuleDestroy {
  private readonly transport: Transporter;
  private readonly domain: string;

  constructor(@Inject(CONFIG) private readonly config: NotificationsConfig) {
    super();
    this.transport = nodemailer.createTransport(smtpOptions(config));
    this.domain = senderDomain(config.MAIL_FROM);
  }

  messageIdFor(eventId: string): string {
    return `<${eventId}@${this.domain}>`;
  }

  async send(mail: RenderedMail, messageId: string, signal: AbortSignal): Promise<void> {
    await this.transport.sendMail({
      signal,
      from: this.config.MAIL_FROM,
      to: mail.to,
      text: mail.text,
      html: mail.html,
      messageId,
      headers: { 'Auto-Submitted': 'auto-generated', 'Content-Language': mail.locale, Subject: subjectHeader(mail.subject) },
    });
  }

  onModuleDestroy(): void {
    this.transport.close();
  }
}

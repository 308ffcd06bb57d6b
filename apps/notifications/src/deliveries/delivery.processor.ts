import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import type { EventEnvelope, MailTemplate } from '#libs/contracts/index.js';
import { LOGGER } from '#libs/platform/index.js';
import { MailSender } from '../mail/mailer.js';
import { InvalidEventError, MailRenderer, templateFor, type RenderedMail } from '../mail/mail-renderer.js';
import { afterFailure, classifySmtpError, isRateLimitExempt, type RetryPolicy } from './delivery-policy.js';
import { DeliveryStore, type NewDelivery, type RateLimits } from './delivery.store.js';
import { Slots } from './slots.js';

/** What the consumer does with the event once {@link DeliveryProcessor.process} is done: acknowledge it, or have it back later. */
export type Outcome = { kind: 'done' } | { kind: 'retry'; delayMs: number };

/** Injection token of the {@link DeliverySettings}. */
export const DELIVERY_SETTINGS = Symbol('DELIVERY_SETTINGS');

/** The knobs of delivery, from the configuration. */
export interface DeliverySettings {
  retry: RetryPolicy;
  /** How long a claimed mail belongs to the replica sending it (the consumer's ack wait). */
  leaseMs: number;
  limits: Omit<RateLimits, 'exempt'>;
  /** Mails handed to SMTP at once (the SMTP pool's size): a mail is claimed only when it can go out at once. */
  smtpConcurrency: number;
}

const DONE: Outcome = { kind: 'done' };
/** How soon to look again at a mail another replica is sending. */
const LOOK_AGAIN_MS = 1000;
/** Pauses between the tries to record a mail the SMTP server accepted, when the database hiccups. */
const RECORD_SENT_PAUSES_MS = [50, 250, 1000, 3000];

/**
 * The life of one mail, exactly once per event: record it (unique per event, counted against the
 * rate limits), claim it (`sending`, with a lease), hand it to SMTP, record the outcome. A
 * redelivered event whose mail is already `sent` (or failed, dead, suppressed) is acknowledged
 * without sending; one whose retry time has not come, or that another replica holds, comes back
 * later. See docs/notifications.md for the window that remains.
 */
@Injectable()
export class DeliveryProcessor {
  /** Mails the SMTP server accepted whose `sent` could not be recorded yet: never sent again by this process. */
  private readonly acceptedUnrecorded = new Set<string>();
  private readonly sending: Slots;

  constructor(
    private readonly store: DeliveryStore,
    private readonly sender: MailSender,
    private readonly renderer: MailRenderer,
    @Inject(DELIVERY_SETTINGS) private readonly settings: DeliverySettings,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.sending = new Slots(settings.smtpConcurrency);
  }

  /** Handles one event; throws when the database is unreachable (the consumer retries with backoff). */
  async process(event: EventEnvelope): Promise<Outcome> {
    const template = templateFor(event);
    if (!template) return DONE;
    const mail = await this.renderOrRecord(event, template);
    if (!mail) return DONE;
    if (this.acceptedUnrecorded.has(event.id)) {
      await this.recordSent(event.id);
      return DONE;
    }
    return this.sending.with(() => this.claimAndSend(event, mail));
  }

  /** Holding a send slot: keeps `sending` to the mails really in the hands of SMTP, which bounds the duplicates a crash can cause. */
  private async claimAndSend(event: EventEnvelope, mail: RenderedMail): Promise<Outcome> {
    const limits = { ...this.settings.limits, exempt: isRateLimitExempt(mail.template) };
    const claim = await this.store.admitAndClaim(this.record(event, mail), limits, this.settings.leaseMs);
    switch (claim.kind) {
      case 'final':
        return DONE;
      case 'wait':
        // A mail in another replica's hands is usually sent within moments: look again soon rather than at the lease's end.
        return { kind: 'retry', delayMs: (claim.because === 'sending' ? Math.min(claim.delayMs, LOOK_AGAIN_MS) : claim.delayMs) + 100 };
      case 'missing':
        throw new Error(`The delivery of event ${event.id} vanished`);
      case 'claimed':
        if (claim.reclaimed)
          this.logger.warn(
            { eventId: event.id, deliveryId: claim.delivery.id },
            'A previous attempt stopped mid-send (process ended); sending again, the recipient may get this mail twice (same Message-ID)',
          );
        return this.send(event, mail, claim.delivery.attempts);
    }
  }

  private async send(event: EventEnvelope, mail: RenderedMail, attempts: number): Promise<Outcome> {
    try {
      await this.sender.send(mail, this.sender.messageIdFor(event.id));
    } catch (error) {
      return this.failed(event, mail, attempts, error);
    }
    // Nothing but recording "sent" between the server's acceptance and here: this is the window.
    await this.recordSent(event.id);
    return DONE;
  }

  private async failed(event: EventEnvelope, mail: RenderedMail, attempts: number, error: unknown): Promise<Outcome> {
    const failure = classifySmtpError(error);
    const next = afterFailure(attempts, failure, this.settings.retry);
    const context = { eventId: event.id, template: mail.template, attempts, error: failure.message };
    if (next.status === 'pending') {
      await this.store.markRetry(event.id, failure.message, next.retryInMs);
      this.logger.warn({ ...context, retryInMs: next.retryInMs }, 'Mail not sent; will retry');
      return { kind: 'retry', delayMs: next.retryInMs };
    }
    await this.store.markFinal(event.id, next.status, failure.message);
    if (next.status === 'dead') this.logger.error(context, `Mail is a dead letter: gave up after ${attempts} attempts`);
    else this.logger.error(context, 'Mail refused for good by the SMTP server');
    return DONE;
  }

  /** Records `sent`, insisting for a few seconds; if the database stays away, remembers it so this process never sends the mail again. */
  private async recordSent(eventId: string): Promise<void> {
    for (let attempt = 0; ; attempt += 1) {
      try {
        await this.store.markSent(eventId);
        this.acceptedUnrecorded.delete(eventId);
        return;
      } catch (error) {
        if (attempt >= RECORD_SENT_PAUSES_MS.length) {
          this.acceptedUnrecorded.add(eventId);
          throw error;
        }
        await new Promise((resolve) => setTimeout(resolve, RECORD_SENT_PAUSES_MS[attempt]));
      }
    }
  }

  private async renderOrRecord(event: EventEnvelope, template: MailTemplate): Promise<RenderedMail | null> {
    try {
      return this.renderer.render(event);
    } catch (error) {
      if (!(error instanceof InvalidEventError)) throw error;
      const data = event.data as { email?: unknown; locale?: unknown };
      const recipient = typeof data.email === 'string' ? data.email.slice(0, 254) : '';
      const locale = typeof data.locale === 'string' ? data.locale.slice(0, 20) : 'en';
      await this.store.admitUnsendable(
        { eventId: event.id, eventType: event.type, accountId: event.accountId, recipient, template, locale, messageId: null },
        `invalid event: ${error.message}`,
      );
      this.logger.error({ eventId: event.id, type: event.type, error: error.message }, 'Event cannot make a mail; recorded as failed');
      return null;
    }
  }

  private record(event: EventEnvelope, mail: RenderedMail): NewDelivery {
    return {
      eventId: event.id,
      eventType: event.type,
      accountId: event.accountId,
      recipient: mail.to,
      template: mail.template,
      locale: mail.locale,
      messageId: this.sender.messageIdFor(event.id),
    };
  }
}

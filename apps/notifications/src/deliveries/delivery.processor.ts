import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { Events, linkTokenHash, type EventEnvelope, type LinksVoidedData, type MailTemplate } from '#libs/contracts/index.js';
import { MailSender } from '../mail/mailer.js';
import { IncompleteEventError, InvalidEventError, MailRenderer, recipientData, templatesFor, type RenderedMail } from '../mail/mail-renderer.js';
import {
  afterFailure,
  budgetLimits,
  classifySmtpError,
  deliveryKey,
  rateBudget,
  rateWaitUntil,
  type RateLimitSettings,
  type RetryPolicy,
  type SmtpFailure,
} from './delivery-policy.js';
import { DeliveryStore, type CarriedLink, type Claim, type ClaimTicket, type NewDelivery, type RateLimits, type WaitingCount } from './delivery.store.js';
import { LeaseKeeper } from './lease-keeper.js';
import { countAttempt, countUnattempted } from './mail-metrics.js';
import { LOGGER, Slots, UnknownEventTypes } from '#libs/platform/index.js';

/** What the consumer does with the event once {@link DeliveryProcessor.process} is done: acknowledge it, or have it back later. */
export type Outcome = { kind: 'done' } | { kind: 'retry'; delayMs: number };

/** Injection token of the {@link DeliverySettings}. */
export const DELIVERY_SETTINGS = Symbol('DELIVERY_SETTINGS');

/** The knobs of delivery, from the configuration. */
export interface DeliverySettings {
  retry: RetryPolicy;
  /** How long a claimed mail belongs to the replica sending it (the consumer's ack wait); renewed every third of it while the attempt lasts. */
  leaseMs: number;
  /**
   * How long one SMTP send may take before it is abandoned (and retried): MAIL_SEND_DEADLINE_MS,
   * unrelated to the lease (renewed while the send lasts); it only stops a server that never finishes.
   */
  sendDeadlineMs: number;
  /** The rate limits; each mail is counted against those of its budget (`rateBudget`). */
  limits: RateLimitSettings;
  /** Mails handed to SMTP at once (the SMTP pool's size): a mail is claimed only when it can go out at once. */
  smtpConcurrency: number;
}

const DONE: Outcome = { kind: 'done' };
/**
 * A waiting mail whose time came but whose counter's lock another transaction holds comes back
 * after between half and all of this (jitter, so that mails returning together do not collide again).
 */
export const COUNTER_BUSY_RETRY_MS = 2000;
/** How soon to look again at a mail another replica is sending. */
const LOOK_AGAIN_MS = 1000;
/**
 * Pauses between the tries to record a mail the SMTP server accepted, when the database is away:
 * the last is repeated, for as long as it takes (the mail's lease renewed meanwhile).
 */
const RECORD_SENT_PAUSES_MS = [50, 250, 1000, 3000, 5000];
/** After this many failed tries to record a mail sent, an error says so (once per mail). */
const RECORD_SENT_TRIES_BEFORE_ERROR = RECORD_SENT_PAUSES_MS.length;
/** An event whose mail another attempt took over comes back this soon: acknowledged then if that attempt is done, left to it otherwise. */
const TAKEN_OVER: Outcome = { kind: 'retry', delayMs: LOOK_AGAIN_MS };
/** An event whose mail was still waiting for an SMTP connection when the consumer stopped: handed back untouched (`nak`, no delay) for another replica. */
const HANDED_BACK: Outcome = { kind: 'retry', delayMs: 0 };
/** Most links one `identity.links.voided` event may name (identity voids a person's few live links at once). */
const MAX_VOIDED_LINKS = 1000;
/** A link's name in `identity.links.voided`: SHA-256, hex. */
const TOKEN_HASH = /^[0-9a-f]{64}$/;
/**
 * How long an event of a type this release does not know waits before it is delivered again (to
 * whichever replica, a newer one during a rolling upgrade): a delay JetStream keeps (`nak` with
 * it), not the consumer's backoff, so such an event costs one delivery a minute for as long as the
 * stream keeps it.
 */
export const UNKNOWN_EVENT_RETRY_MS = 60_000;

/**
 * The life of each mail of an event, exactly once: record it (unique per mail, see `deliveryKey`,
 * counted against the rate limits), claim it (`sending`, with a lease), hand it to SMTP, record the
 * outcome. A redelivered event whose mails are already `sent` (or failed, dead, suppressed) is
 * acknowledged without sending; one with a mail whose retry time has not come, that waits for room
 * under a rate limit, or that another replica holds, comes back later. See docs/notifications.md for the window that remains.
 */
@Injectable()
export class DeliveryProcessor {
  /** Mails the SMTP server accepted whose `sent` is being recorded, by key: never sent again by this process meanwhile. */
  private readonly recordingSent = new Map<string, Promise<Outcome>>();
  private readonly sending: Slots;
  private readonly unknownTypes: UnknownEventTypes;

  constructor(
    private readonly store: DeliveryStore,
    private readonly sender: MailSender,
    private readonly renderer: MailRenderer,
    @Inject(DELIVERY_SETTINGS) private readonly settings: DeliverySettings,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.sending = new Slots(settings.smtpConcurrency);
    this.unknownTypes = new UnknownEventTypes(
      logger,
      'Events of a type this release does not know are kept for a newer notifications (delivered again every minute)',
    );
  }

  /**
   * Handles one event, each of its mails on its own: done once every one is; otherwise back when
   * the earliest wants. An event of a type this release does not know comes back in a minute,
   * untouched. Once `stopping` aborts (a shutdown began), a mail still waiting for an SMTP
   * connection is neither claimed nor sent: its event comes back at once, for another replica.
   * Throws when the database is unreachable (the consumer retries with backoff).
   */
  async process(event: EventEnvelope, stopping?: AbortSignal): Promise<Outcome> {
    if (event.type === Events.LinksVoided) return this.rememberVoidedLinks(event);
    const templates = templatesFor(event);
    if (!templates) return this.deferUnknown(event);
    const outcomes = await Promise.allSettled(templates.map((template) => this.deliver(event, template, stopping)));
    return eventOutcome(outcomes);
  }

  /**
   * An event of a type this release does not know (a newer identity's, during a rolling upgrade):
   * it may ask for a mail only a newer release can make, so it is kept, not acknowledged, and
   * comes back in {@link UNKNOWN_EVENT_RETRY_MS}, for a newer replica to take. Said once per type.
   */
  private deferUnknown(event: EventEnvelope): Outcome {
    this.unknownTypes.note(event.type, { eventId: event.id, retryInMs: UNKNOWN_EVENT_RETRY_MS });
    return { kind: 'retry', delayMs: UNKNOWN_EVENT_RETRY_MS };
  }

  /**
   * The mail `template` of an event: rendered (or recorded failed, or skipped), then claimed and
   * sent once an SMTP connection is free, unless the consumer stopped while it waited for one. A
   * mail that waited for room is counted first, and waits for a connection only if it may go.
   */
  private async deliver(event: EventEnvelope, template: MailTemplate, stopping: AbortSignal | undefined): Promise<Outcome> {
    const key = deliveryKey(event.id, template);
    const mail = await this.renderOrRecord(event, template, key);
    if (!mail) return DONE;
    const recording = this.recordingSent.get(key);
    if (recording) return recording;
    const claim = await this.beforeSlot(event, key, mail);
    if (typeof claim !== 'function') return this.afterClaim(event, key, mail, claim);
    // Looked at once the slot is held, right before the claim: the wait for it may outlast the signal.
    return this.sending.with(async () => (stopping?.aborted ? HANDED_BACK : this.afterClaim(event, key, mail, await claim())));
  }

  /**
   * What is done before a sending slot is taken: a mail that may wait for room and whose wait ends
   * now is counted ({@link DeliveryStore.countWaiting}), and what became of it returned if it may
   * not go. Otherwise, the claim to make holding a slot: a new mail's admission and claim, or a
   * recorded one's claim.
   */
  private async beforeSlot(event: EventEnvelope, key: string, mail: RenderedMail): Promise<Claim | (() => Promise<Claim>)> {
    const delivery = this.record(event, key, mail);
    const limits = this.limitsOf(event, mail);
    const link = carriedLink(event);
    const counted: WaitingCount = link && limits.waitUntil ? await this.store.countWaiting(delivery, limits, link) : { kind: 'new' };
    if (counted.kind === 'new') return () => this.store.admitAndClaim(delivery, limits, this.settings.leaseMs, link);
    if (counted.kind === 'claimable') return () => this.store.claim(key, this.settings.leaseMs, link);
    return counted;
  }

  /**
   * `identity.links.voided`: the links are remembered, and a mail that carries one is cancelled by
   * its claim when its event comes (first, or back for a retry). A mail already in SMTP's hands still goes.
   */
  private async rememberVoidedLinks(event: EventEnvelope): Promise<Outcome> {
    const hashes = (event.data as Partial<LinksVoidedData> | null)?.tokenHashes;
    const wellFormed = Array.isArray(hashes) && hashes.length <= MAX_VOIDED_LINKS && hashes.every((hash) => typeof hash === 'string' && TOKEN_HASH.test(hash));
    if (!wellFormed) {
      this.logger.error({ eventId: event.id }, `${Events.LinksVoided} event without a list of token hashes (SHA-256, hex); ignored`);
      return DONE;
    }
    if (hashes.length > 0) await this.store.voidLinks(hashes);
    return DONE;
  }

  /**
   * What a claim (or a waiting mail's count, {@link DeliveryStore.countWaiting}) found: the mail is
   * sent if claimed, which happens only holding a send slot: that keeps `sending` to the mails
   * really in the hands of SMTP, which bounds the duplicates a crash can cause. The claim also
   * cancels a mail whose link died (voided, expired), as late as can be: a mail may wait long for a
   * free SMTP connection.
   */
  private afterClaim(event: EventEnvelope, key: string, mail: RenderedMail, claim: Claim): Promise<Outcome> | Outcome {
    switch (claim.kind) {
      case 'final':
        if (claim.justRecorded) countUnattempted('suppressed');
        return DONE;
      case 'cancelled':
        if (claim.reclaimed)
          this.logger.warn(
            { eventId: event.id, template: mail.template, reason: claim.reason },
            'Mail cancelled, its link died; an earlier attempt stopped mid-send (process ended) and may have delivered it',
          );
        else this.logger.info({ eventId: event.id, template: mail.template, reason: claim.reason }, 'Mail cancelled: its link died before it could go out');
        return DONE;
      case 'wait':
        if (claim.because === 'room')
          this.logger.info({ eventId: event.id, template: mail.template, waitMs: claim.delayMs }, 'Mail over its rate limit waits for room in the window');
        // A mail in another replica's hands is usually sent within moments: look again soon rather than at the lease's end.
        if (claim.because === 'sending') return { kind: 'retry', delayMs: Math.min(claim.delayMs, LOOK_AGAIN_MS) + 100 };
        if (claim.because === 'counter') return { kind: 'retry', delayMs: Math.ceil(COUNTER_BUSY_RETRY_MS * (0.5 + Math.random() / 2)) };
        // Mails held back by one counter return one after the other, in the order they came (RETURN_STEP_MS apart: the store's).
        return { kind: 'retry', delayMs: claim.delayMs + 100 };
      case 'missing':
        throw new Error(`The delivery of event ${event.id} (${mail.template}) vanished`);
      case 'claimed':
        if (claim.reclaimed)
          this.logger.warn(
            { eventId: event.id, deliveryId: claim.delivery.id },
            'A previous attempt stopped mid-send (process ended); sending again, the recipient may get this mail twice (same Message-ID)',
          );
        return this.attempt({ eventId: key, attempt: claim.delivery.attempts }, mail);
    }
  }

  /** One SMTP attempt under a claim: its lease renewed until the outcome is recorded. */
  private async attempt(ticket: ClaimTicket, mail: RenderedMail): Promise<Outcome> {
    const lease = new LeaseKeeper(this.store, ticket, this.settings.leaseMs, this.logger);
    try {
      return await this.send(ticket, mail, lease);
    } finally {
      await lease.stop();
    }
  }

  /** Hands the mail to SMTP, abandoning the send at its deadline or once the claim is lost; records the outcome. */
  private async send(ticket: ClaimTicket, mail: RenderedMail, lease: LeaseKeeper): Promise<Outcome> {
    const deadline = new AbortController();
    const timer = setTimeout(
      () => deadline.abort(new Error(`the SMTP exchange did not end within ${this.settings.sendDeadlineMs} ms (MAIL_SEND_DEADLINE_MS)`)),
      this.settings.sendDeadlineMs,
    );
    const stop = AbortSignal.any([lease.lost, deadline.signal]);
    try {
      await this.sender.send(mail, this.sender.messageIdFor(ticket.eventId), stop);
    } catch (error) {
      lease.settle();
      return this.failed(ticket, mail, stop.aborted ? abandoned(stop.reason) : classifySmtpError(error));
    } finally {
      clearTimeout(timer);
    }
    lease.settle();
    countAttempt(mail.template, 'sent');
    // Nothing but recording "sent" (and counting it) between the server's acceptance and here: this is the window.
    return this.recordSent(ticket.eventId);
  }

  private async failed(ticket: ClaimTicket, mail: RenderedMail, failure: SmtpFailure): Promise<Outcome> {
    const next = afterFailure(ticket.attempt, failure, this.settings.retry);
    const context = { eventId: ticket.eventId, template: mail.template, attempts: ticket.attempt, error: failure.message };
    if (next.status === 'pending') {
      if (!(await this.store.markRetry(ticket, failure.message, next.retryInMs))) return this.takenOver(ticket, 'not sent (retry)');
      countAttempt(mail.template, 'retry');
      this.logger.warn({ ...context, retryInMs: next.retryInMs }, 'Mail not sent; will retry');
      return { kind: 'retry', delayMs: next.retryInMs };
    }
    if (!(await this.store.markFinal(ticket, next.status, failure.message))) return this.takenOver(ticket, `not sent (${next.status})`);
    countAttempt(mail.template, next.status === 'dead' ? 'dead' : 'refused');
    if (next.status === 'dead') this.logger.error(context, `Mail is a dead letter: gave up after ${ticket.attempt} attempts`);
    else this.logger.error(context, 'Mail refused for good by the SMTP server');
    return DONE;
  }

  /**
   * Records `sent`, insisting for as long as the database is away, while the attempt (and so the
   * mail's lease, and the event reported in progress to JetStream) lasts: giving up would let the
   * lease lapse and another replica send the mail again, though this process lives. Recorded even
   * if another attempt took the claim over meanwhile: the mail did go out, and that attempt must not
   * send it once more. A shutdown waits for it within its grace (MailConsumer).
   */
  private recordSent(key: string): Promise<Outcome> {
    const recording = this.markSentUntilRecorded(key).finally(() => this.recordingSent.delete(key));
    this.recordingSent.set(key, recording);
    return recording;
  }

  private async markSentUntilRecorded(key: string): Promise<Outcome> {
    for (let tries = 1; ; tries += 1) {
      try {
        if (!(await this.store.markSent(key)))
          this.logger.warn(
            { eventId: key },
            'Mail was already recorded sent: another attempt sent it too (same Message-ID), or an earlier try to record it went through',
          );
        if (tries > RECORD_SENT_TRIES_BEFORE_ERROR) this.logger.info({ eventId: key, tries }, 'Mail accepted by the SMTP server recorded sent at last');
        return DONE;
      } catch (error) {
        if (tries === RECORD_SENT_TRIES_BEFORE_ERROR)
          this.logger.error(
            { err: error, eventId: key },
            'Mail accepted by the SMTP server but not recorded sent: the database is away; trying again until it answers (the mail is kept leased)',
          );
        await new Promise((resolve) => setTimeout(resolve, RECORD_SENT_PAUSES_MS[Math.min(tries, RECORD_SENT_PAUSES_MS.length) - 1]));
      }
    }
  }

  /**
   * The outcome of an attempt whose claim another attempt took over (its lease ran out while this
   * one was stalled): nothing is recorded, so the later attempt's outcome stands. The event is not
   * acknowledged at once: that attempt may hold another delivery of the same JetStream message,
   * whose scheduled retry an acknowledgement would cancel; it comes back in a moment and is
   * acknowledged then if the mail is final.
   */
  private takenOver(ticket: ClaimTicket, outcome: string): Outcome {
    this.logger.warn(
      { eventId: ticket.eventId, attempt: ticket.attempt, outcome },
      'Another attempt took this mail over while it was being sent; its outcome is left to that attempt',
    );
    return TAKEN_OVER;
  }

  /** The mail, or null when there is none to send: an event that cannot make it (recorded `failed`) or that predates it (logged). */
  private async renderOrRecord(event: EventEnvelope, template: MailTemplate, key: string): Promise<RenderedMail | null> {
    try {
      return this.renderer.render(event, template);
    } catch (error) {
      if (error instanceof IncompleteEventError) {
        this.logger.warn({ eventId: event.id, type: event.type, template, error: error.message }, 'Event predates this mail; not sent');
        return null;
      }
      if (!(error instanceof InvalidEventError)) throw error;
      const data = recipientData(event, template);
      const recipient = typeof data.email === 'string' ? data.email.slice(0, 254) : '';
      const locale = typeof data.locale === 'string' ? data.locale.slice(0, 20) : 'en';
      const unsendable = { ...this.identity(event, key), recipient, template, locale, messageId: null };
      if (await this.store.admitUnsendable(unsendable, `invalid event: ${error.message}`)) countUnattempted('failed');
      this.logger.error({ eventId: event.id, type: event.type, template, error: error.message }, 'Event cannot make a mail; recorded as failed');
      return null;
    }
  }

  private record(event: EventEnvelope, key: string, mail: RenderedMail): NewDelivery {
    return {
      ...this.identity(event, key),
      recipient: mail.to,
      template: mail.template,
      locale: mail.locale,
      messageId: this.sender.messageIdFor(key),
    };
  }

  /** The rate limits the mail is counted against: its budget's, and until when it may wait for room over them. */
  private limitsOf(event: EventEnvelope, mail: RenderedMail): RateLimits {
    const { requestedBy, expiresAt } = (event.data ?? {}) as { requestedBy?: unknown; expiresAt?: unknown };
    const budget = rateBudget(mail.template, requestedBy);
    const waitUntil = rateWaitUntil({ budget, carriesLink: carriedLink(event) !== null, expiresAt }, this.settings.limits.maxWaitMinutes);
    return { ...budgetLimits(budget, this.settings.limits), waitUntil };
  }

  /** What names a mail's record: its key, and the event it belongs to. */
  private identity(event: EventEnvelope, key: string): Pick<NewDelivery, 'eventId' | 'sourceEventId' | 'eventType' | 'accountId'> {
    return { eventId: key, sourceEventId: key === event.id ? null : event.id, eventType: event.type, accountId: event.accountId };
  }
}

/**
 * What the consumer does with an event from the outcomes of its mails: throws the first failure;
 * acknowledges it once every mail is done; otherwise has it back when the soonest asks.
 */
function eventOutcome(outcomes: Array<PromiseSettledResult<Outcome>>): Outcome {
  const failed = outcomes.find((outcome) => outcome.status === 'rejected');
  if (failed) throw failed.reason;
  const delays = outcomes.flatMap((outcome) => (outcome.status === 'fulfilled' && outcome.value.kind === 'retry' ? [outcome.value.delayMs] : []));
  return delays.length === 0 ? DONE : { kind: 'retry', delayMs: Math.min(...delays) };
}

/** The link an event's mail carries (its token's name, and whether it has expired), or null for a mail without one. */
function carriedLink(event: EventEnvelope): CarriedLink | null {
  const { token, expiresAt } = (event.data ?? {}) as { token?: unknown; expiresAt?: unknown };
  if (typeof token !== 'string') return null;
  return { tokenHash: linkTokenHash(token), expired: typeof expiresAt === 'string' && Date.parse(expiresAt) <= Date.now() };
}

/** The failure of a send abandoned (its deadline passed, or its claim was lost): temporary, a later attempt may succeed. */
function abandoned(reason: unknown): SmtpFailure {
  return { kind: 'temporary', message: `send abandoned: ${reason instanceof Error ? reason.message : String(reason)}` };
}

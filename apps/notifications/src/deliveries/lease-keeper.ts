import type { Logger } from 'pino';
import type { ClaimTicket, DeliveryStore } from './delivery.store.js';

/**
 * Keeps the lease of a claimed mail alive while its attempt lasts: every third of the lease (the
 * pace of the consumer's `working()` to JetStream) it extends the lease to now + the lease, so a
 * slow SMTP exchange is never taken for a dead replica and the mail is not claimed and sent again
 * by a redelivery. Should the claim be gone (the lease ran out anyway and another attempt took the
 * mail), {@link lost} aborts, and the attempt stops sending as soon as it can.
 */
export class LeaseKeeper {
  private readonly lostClaim = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private renewing: Promise<void> = Promise.resolve();
  private stopped = false;
  private settling = false;

  constructor(
    private readonly store: DeliveryStore,
    private readonly ticket: ClaimTicket,
    private readonly leaseMs: number,
    private readonly logger: Logger,
  ) {
    this.scheduleRenewal();
  }

  /** Aborts when the claim turns out to be someone else's. */
  get lost(): AbortSignal {
    return this.lostClaim.signal;
  }

  /**
   * The attempt's exchange is over and its outcome is being recorded: from now on a renewal that
   * finds the claim gone has met that outcome (it ends the claim), not another attempt, and says
   * nothing. Renewals go on meanwhile (a slow recording keeps the mail its own); should another
   * attempt have taken the mail over after all, the recording finds it and says so.
   */
  settle(): void {
    this.settling = true;
  }

  /** Stops renewing (the outcome is recorded, or about to be), once any renewal under way is done. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.renewing;
  }

  private scheduleRenewal(): void {
    this.timer = setTimeout(() => {
      this.renewing = this.renew();
    }, this.leaseMs / 3);
  }

  private async renew(): Promise<void> {
    try {
      if (!(await this.store.renewLease(this.ticket, this.leaseMs))) return this.claimLost();
    } catch (error) {
      this.logger.warn({ err: error, eventId: this.ticket.eventId }, 'Could not renew the lease of a mail being sent; trying again');
    }
    if (!this.stopped) this.scheduleRenewal();
  }

  private claimLost(): void {
    if (this.stopped || this.settling) return;
    this.logger.warn({ eventId: this.ticket.eventId, attempt: this.ticket.attempt }, 'Lost the claim on a mail being sent: another attempt took it over');
    this.lostClaim.abort(new Error('the claim on this mail was taken over by another attempt'));
  }
}

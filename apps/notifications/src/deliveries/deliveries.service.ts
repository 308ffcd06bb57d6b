import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import type { Logger } from 'pino';
import {
  Events,
  IDENTITY_EVENTS,
  type EventEnvelope,
  type PasswordChangedData,
  type PasswordResetRequestedData,
  type SubuserInvitedData,
  type UserAddedToAccountData,
  type UserInvitedData,
} from '#libs/contracts/index.js';
import { CONFIG, DurableConsumer, LOGGER, NATS_LINK, type NatsLink } from '#libs/platform/index.js';
import type { NotificationsConfig } from '../notifications.config.js';
import { Mailer } from '../mail/mailer.js';
import {
  renderActivation,
  renderAddedToAccount,
  renderPasswordChanged,
  renderPasswordReset,
  renderSubuserActivation,
  type MailSettings,
  type RenderedMail,
} from '../mail/templates.js';
import { DeliveryEntity } from './delivery.entity.js';

/** Attempts after which a mail is given up and left for operators (status `dead`). */
export const MAX_ATTEMPTS = 8;

/**
 * Turns mail-worthy events into mails, exactly once per event: the delivery row (unique per
 * event) records what was sent, so a redelivered event is recognised and not mailed again.
 */
@Injectable()
export class DeliveriesService implements OnApplicationBootstrap, OnModuleDestroy {
  private consumer: DurableConsumer | undefined;
  private readonly settings: MailSettings;

  constructor(
    private readonly dataSource: DataSource,
    private readonly mailer: Mailer,
    @Inject(NATS_LINK) private readonly link: NatsLink,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(CONFIG) config: NotificationsConfig,
  ) {
    this.settings = { productName: config.PRODUCT_NAME, publicWebUrl: config.PUBLIC_WEB_URL };
  }

  async onApplicationBootstrap(): Promise<void> {
    this.consumer = new DurableConsumer({
      link: this.link,
      durableName: 'notifications',
      filterSubject: IDENTITY_EVENTS,
      logger: this.logger,
      handle: (event) => this.deliver(event),
    });
    await this.consumer.start();
  }

  async onModuleDestroy(): Promise<void> {
    await this.consumer?.stop();
  }

  /** Sends the mail of one event unless it was sent already. Throws to have the event delivered again later. */
  async deliver(event: EventEnvelope): Promise<void> {
    const mail = this.render(event);
    if (!mail) return;
    const delivery = await this.record(event, mail);
    if (delivery.status !== 'pending') return;
    try {
      await this.mailer.send(mail, event.id);
    } catch (error) {
      await this.failed(delivery, error as Error & { responseCode?: number });
      return;
    }
    await this.dataSource
      .getRepository(DeliveryEntity)
      .update({ id: delivery.id }, { status: 'sent', attempts: delivery.attempts + 1, sentAt: new Date(), lastError: null });
  }

  private render(event: EventEnvelope): RenderedMail | null {
    switch (event.type) {
      case Events.UserInvited:
        return renderActivation(this.settings, event.data as UserInvitedData);
      case Events.UserAddedToAccount:
        return renderAddedToAccount(this.settings, event.data as UserAddedToAccountData);
      case Events.SubuserInvited:
        return renderSubuserActivation(this.settings, event.data as SubuserInvitedData);
      case Events.PasswordResetRequested:
        return renderPasswordReset(this.settings, event.data as PasswordResetRequestedData);
      case Events.PasswordChanged:
        return renderPasswordChanged(this.settings, event.data as PasswordChangedData);
      case Events.AccountCreated:
        return null;
    }
  }

  private async record(event: EventEnvelope, mail: RenderedMail): Promise<DeliveryEntity> {
    const repository = this.dataSource.getRepository(DeliveryEntity);
    await repository
      .createQueryBuilder()
      .insert()
      .values({
        id: randomUUID(),
        eventId: event.id,
        eventType: event.type,
        accountId: event.accountId,
        recipient: mail.to,
        template: mail.template,
        status: 'pending',
        attempts: 0,
      })
      .orIgnore()
      .execute();
    return repository.findOneByOrFail({ eventId: event.id });
  }

  private async failed(delivery: DeliveryEntity, error: Error & { responseCode?: number }): Promise<void> {
    const attempts = delivery.attempts + 1;
    const permanent = typeof error.responseCode === 'number' && error.responseCode >= 500;
    const status = permanent ? 'failed' : attempts >= MAX_ATTEMPTS ? 'dead' : 'pending';
    await this.dataSource.getRepository(DeliveryEntity).update({ id: delivery.id }, { attempts, status, lastError: error.message.slice(0, 500) });
    this.logger.warn({ deliveryId: delivery.id, attempts, status, err: error.message }, 'Mail not sent');
    if (status === 'pending') throw error;
  }
}

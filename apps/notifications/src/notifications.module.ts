import { Module, type DynamicModule } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { Subjects } from '#libs/contracts/index.js';
import { healthController, PlatformModule, type ProcessRuntime } from '#libs/platform/index.js';
import { databaseReadinessProvider, dataSourceOptions } from '#libs/platform/storage.js';
import type { NotificationsConfig } from './notifications.config.js';
import { notificationsDatabase } from './notifications.database.js';
import { DeliveriesController } from './deliveries/deliveries.controller.js';
import { DeliveryLogService } from './deliveries/delivery-log.service.js';
import { DELIVERY_SETTINGS, DeliveryProcessor, type DeliverySettings } from './deliveries/delivery.processor.js';
import { DeliveryStore, PostgresDeliveryStore } from './deliveries/delivery.store.js';
import { MailConsumer } from './deliveries/mail-consumer.js';
import { DeliveryPruner } from './deliveries/delivery-pruner.js';
import { UnfinishedMailGauges } from './deliveries/mail-metrics.js';
import { MailRenderer } from './mail/mail-renderer.js';
import { Mailer, MailSender } from './mail/mailer.js';
import type { TemplateCatalog } from './mail/template-catalog.js';

/** The delivery knobs of a configuration. */
export function deliverySettings(config: NotificationsConfig): DeliverySettings {
  return {
    retry: { maxAttempts: config.MAIL_MAX_ATTEMPTS, baseDelayMs: config.MAIL_RETRY_BASE_MS, maxDelayMs: config.MAIL_RETRY_MAX_MS },
    leaseMs: config.MAIL_ACK_WAIT_MS,
    // Its own setting, not a share of the lease: the lease is renewed while a send lasts, so only a server that never finishes needs cutting off.
    sendDeadlineMs: config.MAIL_SEND_DEADLINE_MS,
    limits: {
      perRecipient: config.MAIL_RATE_PER_RECIPIENT,
      noticesPerRecipient: config.MAIL_RATE_NOTICES_PER_RECIPIENT,
      perAccount: config.MAIL_RATE_PER_ACCOUNT,
      windowMinutes: config.MAIL_RATE_WINDOW_MINUTES,
      maxWaitMinutes: config.MAIL_RATE_MAX_WAIT_MINUTES,
    },
    smtpConcurrency: config.SMTP_POOL_SIZE,
  };
}

/** The notifications service: durable, exactly-once mail, and its delivery log. */
@Module({})
export class NotificationsModule {
  static forRoot(config: NotificationsConfig, runtime: ProcessRuntime, templates: TemplateCatalog): DynamicModule {
    return {
      module: NotificationsModule,
      imports: [PlatformModule.forRoot(runtime, config), TypeOrmModule.forRoot(dataSourceOptions(notificationsDatabase(config)))],
      controllers: [DeliveriesController, healthController(Subjects.NotificationsHealth)],
      providers: [
        databaseReadinessProvider('notifications'),
        { provide: MailSender, useClass: Mailer },
        { provide: MailRenderer, useValue: new MailRenderer({ productName: config.PRODUCT_NAME, publicWebUrl: config.PUBLIC_WEB_URL }, templates) },
        { provide: DeliveryStore, useClass: PostgresDeliveryStore },
        { provide: DELIVERY_SETTINGS, useValue: deliverySettings(config) },
        DeliveryProcessor,
        MailConsumer,
        DeliveryPruner,
        UnfinishedMailGauges,
        DeliveryLogService,
      ],
    };
  }
}

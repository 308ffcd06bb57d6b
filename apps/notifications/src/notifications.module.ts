import { Module, type DynamicModule } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { Subjects } from '#libs/contracts/index.js';
import { databaseReadinessProvider, dataSourceOptions, healthController, PlatformModule, type ProcessRuntime } from '#libs/platform/index.js';
import type { NotificationsConfig } from './notifications.config.js';
import { notificationsDatabase } from './notifications.database.js';
import { DeliveriesService } from './deliveries/deliveries.service.js';
import { Mailer } from './mail/mailer.js';

/** The notifications service: durable, exactly-once mail. */
@Module({})
export class NotificationsModule {
  static forRoot(config: NotificationsConfig, runtime: ProcessRuntime): DynamicModule {
    return {
      module: NotificationsModule,
      imports: [PlatformModule.forRoot(runtime, config), TypeOrmModule.forRoot(dataSourceOptions(notificationsDatabase(config)))],
      controllers: [healthController(Subjects.NotificationsHealth)],
      providers: [databaseReadinessProvider('notifications'), Mailer, DeliveriesService],
    };
  }
}

import type { ServiceDatabase } from '#libs/platform/storage.js';
import { DeliveryEntity } from './deliveries/delivery.entity.js';
import { notificationsMigrations } from './migrations/index.js';

/** The notifications schema: its entities and migrations. */
export function notificationsDatabase(config: { DATABASE_URL: string; DATABASE_POOL_SIZE: number }): ServiceDatabase {
  return {
    url: config.DATABASE_URL,
    schema: 'notifications',
    entities: [DeliveryEntity],
    migrations: notificationsMigrations,
    poolSize: config.DATABASE_POOL_SIZE,
    applicationName: 'portico-notifications',
  };
}

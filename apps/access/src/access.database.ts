import type { ServiceDatabase } from '#libs/platform/storage.js';
import { OutboxEntity } from '#libs/outbox/index.js';
import { ApplicationEntity } from './applications/application.entity.js';
import { BindingEntity } from './bindings/binding.entity.js';
import { AccountOwnerEntity } from './owners/account-owner.entity.js';
import { AppliedEventEntity } from './owners/applied-event.entity.js';
import { PrincipalActivityEntity } from './principals/principal-activity.entity.js';
import { RoleEntity } from './roles/role.entity.js';
import { accessMigrations } from './migrations/index.js';

/** The access schema: its entities and migrations. */
export function accessDatabase(config: { DATABASE_URL: string; DATABASE_POOL_SIZE: number }): ServiceDatabase {
  return {
    url: config.DATABASE_URL,
    schema: 'access',
    entities: [AccountOwnerEntity, AppliedEventEntity, RoleEntity, ApplicationEntity, BindingEntity, PrincipalActivityEntity, OutboxEntity],
    migrations: accessMigrations,
    poolSize: config.DATABASE_POOL_SIZE,
    applicationName: 'portico-access',
  };
}

import type { ServiceDatabase } from '#libs/platform/storage.js';
import { AccountEntity } from './accounts/account.entity.js';
import { ActionTokenEntity } from './credentials/action-token.entity.js';
import { OutboxEntity } from '#libs/outbox/index.js';
import { SessionEntity } from './sessions/session.entity.js';
import { SigningKeyEntity } from './sessions/signing-key.entity.js';
import { MembershipEntity } from './users/membership.entity.js';
import { MembershipInvitationEntity } from './users/membership-invitation.entity.js';
import { UserEntity } from './users/user.entity.js';
import { SubuserEntity } from './subusers/subuser.entity.js';
import { ServiceAccountEntity } from './service-accounts/service-account.entity.js';
import { ServiceAccountKeyEntity } from './service-accounts/service-account-key.entity.js';
import { RetiredRefreshTokenEntity } from './sessions/retired-refresh-token.entity.js';
import { AuditEventEntity } from './audit/audit-event.entity.js';
import { identityMigrations } from './migrations/index.js';

/** The identity schema: its entities and migrations. */
export function identityDatabase(config: { DATABASE_URL: string; DATABASE_POOL_SIZE: number }): ServiceDatabase {
  return {
    url: config.DATABASE_URL,
    schema: 'identity',
    entities: [
      AccountEntity,
      UserEntity,
      MembershipEntity,
      MembershipInvitationEntity,
      SubuserEntity,
      ServiceAccountEntity,
      ServiceAccountKeyEntity,
      ActionTokenEntity,
      SessionEntity,
      RetiredRefreshTokenEntity,
      SigningKeyEntity,
      OutboxEntity,
      AuditEventEntity,
    ],
    migrations: identityMigrations,
    poolSize: config.DATABASE_POOL_SIZE,
    applicationName: 'portico-identity',
  };
}

import { Module, type DynamicModule } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { Subjects } from '#libs/contracts/index.js';
import { Clock, healthController, PlatformModule, type ProcessRuntime, SystemClock } from '#libs/platform/index.js';
import { databaseReadinessProvider, dataSourceOptions } from '#libs/platform/storage.js';
import type { IdentityConfig } from './identity.config.js';
import { identityDatabase } from './identity.database.js';
import { AccountsController } from './accounts/accounts.controller.js';
import { AccountsService } from './accounts/accounts.service.js';
import { SignUpService } from './accounts/sign-up.service.js';
import { ActionTokensService } from './credentials/action-tokens.service.js';
import { nodeArgon2, PasswordHasher } from './credentials/password-hasher.js';
import { PasswordHashingGauges, passwordHashingMetrics } from './credentials/password-hashing-metrics.js';
import { OutboxRelay, OutboxWriter } from '#libs/outbox/index.js';
import { AuthController } from './sessions/auth.controller.js';
import { AuthService } from './sessions/auth.service.js';
import { SessionsService } from './sessions/sessions.service.js';
import { SigningKeysService } from './sessions/signing-keys.service.js';
import { MeController } from './users/me.controller.js';
import { MfaController } from './mfa/mfa.controller.js';
import { FactorSecrets } from './mfa/factor-secrets.js';
import { MfaService } from './mfa/mfa.service.js';
import { MeService } from './users/me.service.js';
import { UsersController } from './users/users.controller.js';
import { InvitationsController } from './users/invitations.controller.js';
import { InvitationsService } from './users/invitations.service.js';
import { UsersService } from './users/users.service.js';
import { AccountSizes } from './users/account-sizes.js';
import { SubusersController } from './subusers/subusers.controller.js';
import { SubusersService } from './subusers/subusers.service.js';
import { ServiceAccountsController } from './service-accounts/service-accounts.controller.js';
import { ServiceAccountsService } from './service-accounts/service-accounts.service.js';
import { ServiceAccountKeysService } from './service-accounts/service-account-keys.service.js';
import { TokenExchangeService } from './service-accounts/token-exchange.service.js';
import { AuditController } from './audit/audit.controller.js';
import { PrincipalsController } from './principals/principals.controller.js';
import { AccessAuditConsumer } from './audit/access-audit.consumer.js';
import { RoleProjection } from './roles/role-projection.js';
import { RoleProjectionBackfill } from './roles/role-projection-backfill.js';
import { AuditService } from './audit/audit.service.js';
import { EmailChangeService } from './credentials/email-change.service.js';
import { PasswordResetService } from './credentials/password-reset.service.js';
import { PasswordsService } from './credentials/passwords.service.js';
import { ThrottleService } from './credentials/throttle.service.js';
import { Transactions } from './database/unit-of-work.js';
import { GateBroadcaster } from './sessions/gate-broadcaster.js';
import { Housekeeping } from './database/housekeeping.js';
import { CaseFoldingCheck } from './database/case-folding-check.js';
import { AnnouncedActivitySweep } from './principals/announced-activity.sweep.js';

/** The identity service: accounts, users, subusers, credentials, sessions, audit. */
@Module({})
export class IdentityModule {
  static forRoot(config: IdentityConfig, runtime: ProcessRuntime): DynamicModule {
    return {
      module: IdentityModule,
      imports: [PlatformModule.forRoot(runtime, config), TypeOrmModule.forRoot(dataSourceOptions(identityDatabase(config)))],
      controllers: [
        AccountsController,
        AuthController,
        MeController,
        MfaController,
        UsersController,
        InvitationsController,
        SubusersController,
        ServiceAccountsController,
        AuditController,
        PrincipalsController,
        healthController(Subjects.IdentityHealth),
      ],
      providers: [
        { provide: Clock, useClass: SystemClock },
        {
          provide: PasswordHasher,
          useFactory: () =>
            new PasswordHasher(config.ARGON2_MAX_CONCURRENCY, config.ARGON2_QUEUE_LIMIT, nodeArgon2, () => passwordHashingMetrics.refused.inc()),
        },
        PasswordHashingGauges,
        CaseFoldingCheck,
        databaseReadinessProvider('identity'),
        AccountsService,
        SignUpService,
        ActionTokensService,
        OutboxWriter,
        OutboxRelay,
        AuthService,
        SessionsService,
        SigningKeysService,
        MeService,
        Transactions,
        AuditService,
        AccessAuditConsumer,
        RoleProjection,
        RoleProjectionBackfill,
        ThrottleService,
        PasswordsService,
        PasswordResetService,
        EmailChangeService,
        MfaService,
        FactorSecrets,
        GateBroadcaster,
        UsersService,
        InvitationsService,
        AccountSizes,
        SubusersService,
        ServiceAccountsService,
        ServiceAccountKeysService,
        TokenExchangeService,
        Housekeeping,
        AnnouncedActivitySweep,
      ],
    };
  }
}

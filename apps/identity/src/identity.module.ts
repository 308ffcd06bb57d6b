import { Module, type DynamicModule } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { Subjects } from '#libs/contracts/index.js';
import {
  Clock,
  databaseReadinessProvider,
  dataSourceOptions,
  healthController,
  PlatformModule,
  type ProcessRuntime,
  SystemClock,
} from '#libs/platform/index.js';
import type { IdentityConfig } from './identity.config.js';
import { identityDatabase } from './identity.database.js';
import { AccountsController } from './accounts/accounts.controller.js';
import { AccountsService } from './accounts/accounts.service.js';
import { ActionTokensService } from './credentials/action-tokens.service.js';
import { PasswordHasher } from './credentials/password-hasher.js';
import { OutboxRelay } from './outbox/outbox.relay.js';
import { OutboxWriter } from './outbox/outbox.writer.js';
import { AuthController } from './sessions/auth.controller.js';
import { AuthService } from './sessions/auth.service.js';
import { SessionsService } from './sessions/sessions.service.js';
import { SigningKeysService } from './sessions/signing-keys.service.js';
import { MeController } from './users/me.controller.js';
import { MeService } from './users/me.service.js';

/** The identity service: accounts, users, credentials, sessions. */
@Module({})
export class IdentityModule {
  static forRoot(config: IdentityConfig, runtime: ProcessRuntime): DynamicModule {
    return {
      module: IdentityModule,
      imports: [PlatformModule.forRoot(runtime, config), TypeOrmModule.forRoot(dataSourceOptions(identityDatabase(config)))],
      controllers: [AccountsController, AuthController, MeController, healthController(Subjects.IdentityHealth)],
      providers: [
        { provide: Clock, useClass: SystemClock },
        { provide: PasswordHasher, useFactory: () => new PasswordHasher(config.ARGON2_MAX_CONCURRENCY, config.ARGON2_QUEUE_LIMIT) },
        databaseReadinessProvider('identity'),
        AccountsService,
        ActionTokensService,
        OutboxWriter,
        OutboxRelay,
        AuthService,
        SessionsService,
        SigningKeysService,
        MeService,
      ],
    };
  }
}

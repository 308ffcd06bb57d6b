import { Module, type DynamicModule } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { PassportModule } from '@nestjs/passport';
import { PlatformModule, type ProcessRuntime } from '#libs/platform/index.js';
import type { GatewayConfig } from './gateway.config.js';
import { AccountsController } from './accounts/accounts.controller.js';
import { AuthController } from './accounts/auth.controller.js';
import { AccessGuard } from './auth/access.guard.js';
import { JwtStrategy } from './auth/jwt.strategy.js';
import { DeliveriesController } from './deliveries/deliveries.controller.js';
import { KeyRing } from './auth/key-ring.service.js';
import { MeController } from './me/me.controller.js';
import { OperationsController } from './operations/operations.controller.js';

/** The HTTP gateway. */
@Module({})
export class GatewayModule {
  static forRoot(config: GatewayConfig, runtime: ProcessRuntime): DynamicModule {
    return {
      module: GatewayModule,
      imports: [PlatformModule.forRoot(runtime, config), PassportModule],
      controllers: [AccountsController, AuthController, DeliveriesController, MeController, OperationsController],
      providers: [KeyRing, JwtStrategy, { provide: APP_GUARD, useClass: AccessGuard }],
    };
  }
}

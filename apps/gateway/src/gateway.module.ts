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
import { ApplicationsController } from './access/applications.controller.js';
import { CatalogController } from './access/catalog.controller.js';
import { PermissionsController } from './access/permissions.controller.js';
import { RolesController } from './access/roles.controller.js';
import { DecisionCache } from './auth/decision-cache.js';
import { MeController } from './me/me.controller.js';
import { SessionGate } from './auth/session-gate.service.js';
import { AccountGateGuard } from './auth/account-gate.guard.js';
import { UsersController } from './users/users.controller.js';
import { SubusersController } from './subusers/subusers.controller.js';
import { ServiceAccountsController } from './service-accounts/service-accounts.controller.js';
import { TokenController } from './service-accounts/token.controller.js';
import { AuditController } from './audit/audit.controller.js';
import { OperationsController } from './operations/operations.controller.js';

/** The HTTP gateway. */
@Module({})
export class GatewayModule {
  static forRoot(config: GatewayConfig, runtime: ProcessRuntime): DynamicModule {
    return {
      module: GatewayModule,
      imports: [PlatformModule.forRoot(runtime, config), PassportModule],
      // Express tries routes in this order, one regular expression each: a panel's hottest reads first (its menus'
      // permissions on every page, then its tables). No request matches routes of two controllers (route-table.spec).
      controllers: [
        PermissionsController,
        UsersController,
        SubusersController,
        ServiceAccountsController,
        AccountsController,
        AuthController,
        TokenController,
        MeController,
        OperationsController,
        CatalogController,
        RolesController,
        ApplicationsController,
        AuditController,
        DeliveriesController,
      ],
      providers: [
        KeyRing,
        SessionGate,
        JwtStrategy,
        DecisionCache,
        { provide: APP_GUARD, useClass: AccessGuard },
        // After the access guard: an actor suspended in the route's account gets 404 whatever its roles, and a session
        // without a second step gets 403 in an account that requires one.
        { provide: APP_GUARD, useClass: AccountGateGuard },
      ],
    };
  }
}

import { Module, type DynamicModule } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { Subjects } from '#libs/contracts/index.js';
import { healthController, PlatformModule, type ProcessRuntime } from '#libs/platform/index.js';
import { databaseReadinessProvider, dataSourceOptions } from '#libs/platform/storage.js';
import { OutboxRelay, OutboxWriter } from '#libs/outbox/index.js';
import type { AccessConfig } from './access.config.js';
import { accessDatabase } from './access.database.js';
import { ApplicationsController } from './applications/applications.controller.js';
import { ApplicationsService } from './applications/applications.service.js';
import { BindingsController } from './bindings/bindings.controller.js';
import { BindingsService } from './bindings/bindings.service.js';
import type { Catalog } from './catalog/catalog.js';
import { CatalogController } from './catalog/catalog.controller.js';
import { ChecksController } from './checks/checks.controller.js';
import { ChecksService } from './checks/checks.service.js';
import { DecisionStore } from './checks/decision-store.js';
import { OwnersService } from './owners/owners.service.js';
import { PrincipalsService } from './principals/principals.service.js';
import { RolesController } from './roles/roles.controller.js';
import { RolesService } from './roles/roles.service.js';
import { AccessRepository } from './state/access-repository.js';
import { AccessStateService } from './state/access-state.service.js';
import { AccessStateGauges } from './state/access-metrics.js';

/** The access service: catalogue, roles, applications, bindings, decisions. */
@Module({})
export class AccessModule {
  static forRoot(config: AccessConfig, runtime: ProcessRuntime, catalog: Catalog): DynamicModule {
    return {
      module: AccessModule,
      imports: [PlatformModule.forRoot(runtime, config), TypeOrmModule.forRoot(dataSourceOptions(accessDatabase(config)))],
      controllers: [ChecksController, CatalogController, RolesController, ApplicationsController, BindingsController, healthController(Subjects.AccessHealth)],
      providers: [
        databaseReadinessProvider('access'),
        { provide: DecisionStore, useValue: new DecisionStore(catalog) },
        AccessRepository,
        AccessStateService,
        AccessStateGauges,
        ChecksService,
        RolesService,
        ApplicationsService,
        BindingsService,
        OwnersService,
        OutboxWriter,
        OutboxRelay,
        PrincipalsService,
      ],
    };
  }
}

import { Module, type DynamicModule } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Subjects } from '#libs/contracts/index.js';
import {
  dataSourceOptions,
  DatabaseAndNatsReadiness,
  healthController,
  NATS_LINK,
  PlatformModule,
  READINESS,
  type NatsLink,
  type ProcessRuntime,
} from '#libs/platform/index.js';
import type { AccessConfig } from './access.config.js';
import { accessDatabase } from './access.database.js';
import { ChecksController } from './checks/checks.controller.js';
import { DecisionStore } from './checks/decision-store.js';
import { OwnersService } from './owners/owners.service.js';

/** The access service: catalogue, roles, bindings, decisions. */
@Module({})
export class AccessModule {
  static forRoot(config: AccessConfig, runtime: ProcessRuntime): DynamicModule {
    return {
      module: AccessModule,
      imports: [PlatformModule.forRoot(runtime, config), TypeOrmModule.forRoot(dataSourceOptions(accessDatabase(config)))],
      controllers: [ChecksController, healthController(Subjects.AccessHealth)],
      providers: [
        {
          provide: READINESS,
          inject: [DataSource, NATS_LINK],
          useFactory: (dataSource: DataSource, link: NatsLink) => new DatabaseAndNatsReadiness('access', dataSource, link),
        },
        DecisionStore,
        OwnersService,
      ],
    };
  }
}

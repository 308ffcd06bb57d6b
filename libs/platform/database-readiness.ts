import type { Provider } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { HealthView } from '#libs/contracts/index.js';
import { databaseAnswers } from './database.js';
import type { NatsLink } from './nats-connection.js';
import { NATS_LINK } from './platform.module.js';
import { READINESS, type Readiness } from './readiness.js';

/** Ready when the service's database answers and its NATS connection is up. */
export class DatabaseAndNatsReadiness implements Readiness {
  constructor(
    private readonly service: string,
    private readonly dataSource: DataSource,
    private readonly link: NatsLink,
  ) {}

  async check(): Promise<HealthView> {
    const checks = { database: await databaseAnswers(this.dataSource), nats: this.link.isUp() };
    return { service: this.service, ready: checks.database && checks.nats, checks };
  }
}

/** The READINESS provider of a service that owns a database schema. */
export function databaseReadinessProvider(service: string): Provider {
  return {
    provide: READINESS,
    inject: [DataSource, NATS_LINK],
    useFactory: (dataSource: DataSource, link: NatsLink) => new DatabaseAndNatsReadiness(service, dataSource, link),
  };
}

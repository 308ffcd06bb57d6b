import { Controller, Inject, type Provider, type Type } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { databaseAnswers } from './database.js';
import type { NatsLink } from './nats-connection.js';
import { NATS_LINK } from './platform.module.js';
import { MessagePattern } from '@nestjs/microservices';
import type { HealthView } from '#libs/contracts/index.js';

/** Injection token of a service's readiness check. */
export const READINESS = Symbol('READINESS');

/** Says whether a service can do its work now. */
export interface Readiness {
  check(): Promise<HealthView>;
}

/** A controller answering `<service>.health` over NATS, for the gateway's aggregated readiness. */
export function healthController(subject: string, readinessToken: symbol = READINESS): Type<unknown> {
  @Controller()
  class HealthController {
    constructor(@Inject(readinessToken) private readonly readiness: Readiness) {}

    @MessagePattern(subject)
    check(): Promise<HealthView> {
      return this.readiness.check();
    }
  }
  return HealthController;
}

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

import { Controller, Inject, type Type } from '@nestjs/common';
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

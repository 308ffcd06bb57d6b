import { Global, Module, type DynamicModule } from '@nestjs/common';
import type { Logger } from 'pino';
import { DirectHandlers } from './direct-handlers.js';
import { InFlightTracker } from './in-flight.js';
import type { NatsLink } from './nats-connection.js';
import { RpcClient } from './rpc-client.js';

/** Injection token of the process's {@link NatsLink}. */
export const NATS_LINK = Symbol('NATS_LINK');
/** Injection token of the process's pino logger. */
export const LOGGER = Symbol('LOGGER');
/** Injection token of the service's validated configuration. */
export const CONFIG = Symbol('CONFIG');

/** What every process has before Nest starts. */
export interface ProcessRuntime {
  link: NatsLink;
  logger: Logger;
  inFlight: InFlightTracker;
  rpc: RpcClient;
  direct: DirectHandlers;
}

/** Makes the process runtime and configuration injectable everywhere. */
@Global()
@Module({})
export class PlatformModule {
  static forRoot(runtime: ProcessRuntime, config: object): DynamicModule {
    return {
      module: PlatformModule,
      providers: [
        { provide: NATS_LINK, useValue: runtime.link },
        { provide: LOGGER, useValue: runtime.logger },
        { provide: InFlightTracker, useValue: runtime.inFlight },
        { provide: RpcClient, useValue: runtime.rpc },
        { provide: DirectHandlers, useValue: runtime.direct },
        { provide: CONFIG, useValue: config },
      ],
      exports: [NATS_LINK, LOGGER, InFlightTracker, RpcClient, DirectHandlers, CONFIG],
    };
  }
}

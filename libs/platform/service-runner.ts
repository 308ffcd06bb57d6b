import 'reflect-metadata';
import type { DynamicModule } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { Server } from 'node:http';
import { createLogger, PinoNestLogger } from './logger.js';
import { DirectHandlers } from './direct-handlers.js';
import { InFlightTracker } from './in-flight.js';
import { NatsLink } from './nats-connection.js';
import { RpcClient } from './rpc-client.js';
import { PorticoNatsServer, RpcContextInterceptor, RpcErrorFilter } from './rpc-server.js';
import { createValidationPipe } from './validation.js';
import { StorablePayloadPipe } from './unstorable-input.js';
import { startDrain } from './drain-clock.js';
import { startHealthServer } from './health-server.js';
import type { ProcessRuntime } from './platform.module.js';
import { READINESS, type Readiness } from './readiness.js';

/** What a NATS service needs to run. */
export interface ServiceLaunch {
  name: string;
  config: {
    NATS_URL: string;
    NATS_USER: string;
    NATS_PASSWORD: string;
    NATS_CREDS_FILE: string;
    LOG_LEVEL: string;
    RPC_TIMEOUT_MS: number;
    SHUTDOWN_GRACE_MS: number;
    HEALTH_PORT: number;
    /** Of the services that make the events stream (`eventsStreamEnv`); the gateway has none. */
    NATS_STREAM_REPLICAS?: number;
  };
  /** Builds the service's root module once the runtime exists. */
  module: (runtime: ProcessRuntime) => DynamicModule;
}

/** Opens the process runtime (logger, NATS link, RPC client). Shared by the services and the gateway. */
export async function openRuntime(name: string, config: ServiceLaunch['config']): Promise<ProcessRuntime> {
  const logger = createLogger(name, config.LOG_LEVEL);
  const link = await NatsLink.open({
    url: config.NATS_URL,
    user: optional(config.NATS_USER),
    password: optional(config.NATS_PASSWORD),
    credsFile: optional(config.NATS_CREDS_FILE),
    name,
    logger,
    eventsStreamReplicas: config.NATS_STREAM_REPLICAS,
  });
  return { logger, link, inFlight: new InFlightTracker(), rpc: new RpcClient(link, config.RPC_TIMEOUT_MS), direct: new DirectHandlers() };
}

/** A config value of "-" means "not set". */
export function optional(value: string): string | undefined {
  return value === '-' ? undefined : value;
}

/**
 * Runs a NATS service: joins the queue group named after it, validates every payload, answers
 * errors with codes, serves /health and /metrics on HEALTH_PORT, and shuts down gracefully on SIGTERM/SIGINT.
 */
export async function runService(launch: ServiceLaunch): Promise<void> {
  const runtime = await openRuntime(launch.name, launch.config);
  const { logger, link, inFlight, direct } = runtime;
  const app = await NestFactory.createMicroservice(launch.module(runtime), {
    strategy: new PorticoNatsServer(link, launch.name, inFlight, launch.config.SHUTDOWN_GRACE_MS, direct, logger),
    logger: new PinoNestLogger(logger),
    bufferLogs: false,
  });
  // The gateway refuses unstorable text over HTTP; a service refuses it from any NATS caller too, before validating.
  app.useGlobalPipes(new StorablePayloadPipe(), createValidationPipe());
  app.useGlobalFilters(new RpcErrorFilter(logger));
  app.useGlobalInterceptors(new RpcContextInterceptor(inFlight));
  const readiness = app.get<Readiness>(READINESS);
  let healthServer: Server | undefined;
  // Not ready before it listens: until then its modules are still starting (loading keys, say) and nothing is subscribed.
  let listening = false;
  const ready = async () => {
    const view = await readiness.check();
    return listening ? view : { ...view, ready: false };
  };
  if (launch.config.HEALTH_PORT > 0) {
    // Imported here rather than by index.ts, which most tests import and which serves no metrics.
    const { metricsExposition } = await import('./metrics.js');
    healthServer = await startHealthServer(launch.config.HEALTH_PORT, ready, metricsExposition);
  }
  await app.listen();
  listening = true;
  logger.info({ healthPort: launch.config.HEALTH_PORT }, `${launch.name} is listening on NATS queue group "${launch.name}"`);
  onShutdownSignal(
    logger,
    async () => {
      await app.close();
      healthServer?.close();
      await link.close();
    },
    launch.config.SHUTDOWN_GRACE_MS,
  );
}

/** How long a shutdown may take beyond the grace for in-flight work (closing connections and pools) before the process gives up on it. */
export const SHUTDOWN_CLOSE_MARGIN_MS = 5_000;

/**
 * On SIGTERM/SIGINT: run `stop` once, then exit (0 if it finished, 1 if it threw). A stop still
 * running `graceMs` + {@link SHUTDOWN_CLOSE_MARGIN_MS} later (a connection that never closes, a
 * hung pool) is given up: the process logs it and exits 1 rather than waiting to be killed.
 */
export function onShutdownSignal(logger: ProcessRuntime['logger'], stop: () => Promise<void>, graceMs: number): void {
  const handle = shutdownHandler(logger, stop, graceMs + SHUTDOWN_CLOSE_MARGIN_MS, (code) => process.exit(code));
  const onSignal = (signal: string) => {
    startDrain(graceMs);
    handle(signal);
  };
  process.once('SIGTERM', () => onSignal('SIGTERM'));
  process.once('SIGINT', () => onSignal('SIGINT'));
}

/** What {@link onShutdownSignal} runs on a signal (exported for tests): `stop` once, then `exit`, at the latest after `deadlineMs`. */
export function shutdownHandler(
  logger: ProcessRuntime['logger'],
  stop: () => Promise<void>,
  deadlineMs: number,
  exit: (code: number) => void,
): (signal: string) => void {
  let stopping = false;
  return (signal) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'Shutting down: no new work, finishing what is in flight');
    const deadline = setTimeout(() => {
      logger.error({ deadlineMs }, `Shutdown did not finish within ${deadlineMs} ms; exiting anyway`);
      exit(1);
    }, deadlineMs);
    stop().then(
      () => {
        clearTimeout(deadline);
        exit(0);
      },
      (error: unknown) => {
        clearTimeout(deadline);
        logger.error({ err: error }, 'Shutdown failed');
        exit(1);
      },
    );
  };
}

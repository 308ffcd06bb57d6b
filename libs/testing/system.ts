import { spawn, type ChildProcess } from 'node:child_process';
import { MailCatcher } from './mail-catcher.js';
import { TestDatabase } from './database.js';
import { distPath } from './dist.js';
import { freePort, TestNatsServer, type TestNatsServerOptions } from './nats-server.js';

/** The four services. */
export type ServiceName = 'gateway' | 'identity' | 'access' | 'notifications';
/** Every service, gateway last (it waits for the others to be ready). */
export const SERVICES: ServiceName[] = ['identity', 'access', 'notifications', 'gateway'];

/** How a {@link TestSystem} is started. */
export interface SystemOptions {
  /** Extra environment for every process. */
  env?: Record<string, string>;
  /** Which services to start (default: all four). */
  services?: ServiceName[];
  /** `ready`: wait for /health/system = 200, every service ready (default); `live`: only for the gateway to answer. */
  waitFor?: 'ready' | 'live';
  /** Extra Node.js flags for every service process (the benchmark's `--cpu-prof`, say). */
  nodeArgs?: string[];
  /** Extra environment of one service's processes (its own NATS user, say), over {@link env}. */
  serviceEnv?: Partial<Record<ServiceName, Record<string, string>>>;
  /** How the private nats-server is configured (users and their permissions, say). */
  nats?: TestNatsServerOptions;
  /** Whether identity, access and notifications serve /health and /metrics on ports of their own (off by default: HEALTH_PORT 0). */
  healthPorts?: boolean;
}

/** How long a process started by a test may take to answer (a deadline, not a timing: a failure only waits this long). */
const STARTUP_DEADLINE_MS = 60_000;

/** The web base used in test mails. */
export const TEST_WEB_URL = 'http://panel.test';

/**
 * The whole system for one test file, as separate processes built from `dist/`: a fresh
 * database, a private nats-server with JetStream, a real SMTP server that keeps every mail.
 */
export class TestSystem {
  readonly database = new TestDatabase();
  readonly nats: TestNatsServer;
  readonly mail = new MailCatcher();
  readonly logs = new Map<string, string[]>();
  private readonly processes = new Map<string, ChildProcess>();
  private smtpPort = 0;
  gatewayPort = 0;
  /** The port of the gateway's Prometheus /metrics server. */
  metricsPort = 0;
  /** The HEALTH_PORT of each service but the gateway, with {@link SystemOptions.healthPorts}. */
  private readonly healthPorts = new Map<string, number>();

  constructor(private readonly options: SystemOptions = {}) {
    this.nats = new TestNatsServer(options.nats);
  }

  /** The gateway's base URL. */
  get url(): string {
    return `http://127.0.0.1:${this.gatewayPort}`;
  }

  /** The gateway's Prometheus metrics URL (a port of its own, apart from the API). */
  get metricsUrl(): string {
    return `http://127.0.0.1:${this.metricsPort}/metrics`;
  }

  /** The base URL of a service's /health and /metrics server (started with {@link SystemOptions.healthPorts}). */
  healthUrl(service: Exclude<ServiceName, 'gateway'>): string {
    const port = this.healthPorts.get(service);
    if (!port) throw new Error(`${service} serves no /health: start the system with healthPorts`);
    return `http://127.0.0.1:${port}`;
  }

  /** Starts everything and waits until `/health/system` answers 200. */
  async start(): Promise<void> {
    await Promise.all([this.nats.start(), this.database.create(), this.mail.start().then((port) => (this.smtpPort = port))]);
    const taken = new Set<number>();
    const newPort = async () => {
      let port: number;
      do port = await freePort();
      while (taken.has(port));
      taken.add(port);
      return port;
    };
    const services = this.options.services ?? SERVICES;
    const givePorts = async (service: ServiceName) => {
      if (service === 'gateway') [this.gatewayPort, this.metricsPort] = [await newPort(), await newPort()];
      else if (this.options.healthPorts) this.healthPorts.set(service, await newPort());
    };
    for (const service of services) await givePorts(service);
    for (const service of services) this.startService(service);
    await this.waitUntil(this.options.waitFor === 'live' ? '/health/live' : '/health/system', STARTUP_DEADLINE_MS, undefined, async () => {
      // A port found free can be taken by a parallel test before the service binds it: that service exits; it starts again on new ports.
      for (const service of services.filter((name) => this.lostItsPort(name))) {
        await givePorts(service);
        this.startService(service);
      }
    });
  }

  /** Whether a service exited at start because a port it was given was taken meanwhile. */
  private lostItsPort(name: string): boolean {
    const child = this.processes.get(name);
    const exited = child !== undefined && (child.exitCode !== null || child.signalCode !== null);
    return exited && (this.logs.get(name) ?? []).some((line) => line.includes('EADDRINUSE'));
  }

  /** Starts one service process (again). `name` may carry a suffix (`gateway#2`) for a second replica. */
  startService(name: string, env: Record<string, string> = {}): ChildProcess {
    const service = name.split('#')[0];
    const child = spawn(process.execPath, [...(this.options.nodeArgs ?? []), distPath(`apps/${service}/src/main.js`)], {
      // A second replica shares the host: its metrics server stays off unless given a port.
      env: {
        ...this.env(),
        ...this.options.serviceEnv?.[service as ServiceName],
        ...(name === service ? { HEALTH_PORT: String(this.healthPorts.get(service) ?? 0) } : { METRICS_PORT: '0' }),
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lines: string[] = [];
    this.logs.set(name, lines);
    const keep = (chunk: Buffer) => lines.push(...chunk.toString().split('\n').filter(Boolean).slice(-200));
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    this.processes.set(name, child);
    process.once('exit', () => child.kill('SIGKILL'));
    return child;
  }

  /** Stops one service with `signal` and waits for it to exit; returns its exit code. */
  async stopService(name: string, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    const child = this.processes.get(name);
    if (!child || child.exitCode !== null || child.signalCode !== null) return child?.exitCode ?? null;
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill(signal);
    this.processes.delete(name);
    return exited;
  }

  /** The process id of a running service (for memory readings). */
  pidOf(name: string): number | undefined {
    return this.processes.get(name)?.pid;
  }

  /** Starts another gateway replica (`name` such as `gateway#2`) on `port` and waits until it is ready; its base URL. */
  async startGateway(name: string, port: number): Promise<string> {
    this.startService(name, { GATEWAY_PORT: String(port) });
    const url = `http://127.0.0.1:${port}`;
    await this.waitUntil('/health/system', STARTUP_DEADLINE_MS, url);
    return url;
  }

  /**
   * Polls a path (by default `/health/system`) of the gateway at `url` (the first one by default) until it answers 200.
   * The default deadline is generous: on a busy 2-core machine four services loading at once may take half a minute to boot.
   */
  async waitUntil(path = '/health/system', timeoutMs = STARTUP_DEADLINE_MS, url?: string, betweenPolls?: () => Promise<void>): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      await betweenPolls?.();
      // Bounded: the port may be held by something that takes the connection and never answers (a port taken meanwhile).
      const ok = await fetch(`${url ?? this.url}${path}`, { signal: AbortSignal.timeout(2000) }).then(
        (response) => response.ok,
        () => false,
      );
      if (ok) return;
      if (Date.now() > deadline) throw new Error(`${path} did not answer 200:\n${this.dumpLogs()}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  /** The last log lines of every process (for failure messages). */
  dumpLogs(): string {
    return [...this.logs].map(([name, lines]) => `--- ${name}\n${lines.slice(-30).join('\n')}`).join('\n');
  }

  /** Stops every process, the NATS server, the SMTP server, and drops the database. */
  async stop(): Promise<void> {
    await Promise.allSettled([...this.processes.keys()].map((name) => this.stopService(name)));
    await Promise.allSettled([this.nats.destroy(), this.mail.stop()]);
    await this.database.drop().catch(() => undefined);
  }

  private env(): Record<string, string> {
    return {
      PATH: process.env.PATH ?? '',
      DATABASE_URL: this.database.url,
      DATABASE_POOL_SIZE: '4',
      NATS_URL: this.nats.url,
      SMTP_URL: `smtp://127.0.0.1:${this.smtpPort}`,
      MAIL_FROM: 'Portico Test <no-reply@portico.test>',
      PUBLIC_WEB_URL: TEST_WEB_URL,
      GATEWAY_PORT: String(this.gatewayPort),
      METRICS_PORT: String(this.metricsPort),
      GATEWAY_HOST: '127.0.0.1',
      HEALTH_PORT: '0',
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
      SHUTDOWN_GRACE_MS: '5000',
      // Whole-system tests sign up many accounts from one address; a test of the limit sets its own.
      SIGNUP_ADDRESS_LIMIT: '1000',
      ...this.options.env,
    };
  }
}

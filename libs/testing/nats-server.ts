import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Where nats-server is looked for: NATS_SERVER_BIN, then PATH, then Debian's /usr/sbin. */
export function natsServerBinary(): string {
  const candidates = [
    process.env.NATS_SERVER_BIN,
    ...(process.env.PATH ?? '').split(':').map((dir) => join(dir, 'nats-server')),
    '/usr/sbin/nats-server',
    '/usr/bin/nats-server',
  ];
  const found = candidates.find((candidate) => candidate && existsSync(candidate));
  if (!found) throw new Error('nats-server not found: run the tests with `npm test`, which installs it');
  return found;
}

/**
 * A free TCP port on the loopback interface, picked at random below Linux's ephemeral range
 * (32768+): a port the kernel just handed out as free can be taken again at once by an outgoing
 * connection of a parallel test, and a service then fails to listen on it.
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt += 1) {
    const candidate = 20_000 + Math.floor(Math.random() * 12_000);
    if (await canListen(candidate)) return candidate;
  }
  throw new Error('No free port found between 20000 and 32000');
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** Resolves once something accepts TCP connections on `port`. */
export async function waitForPort(port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = tcpConnect(port, '127.0.0.1');
      socket.once('connect', () => (socket.destroy(), resolve(true)));
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`Nothing listens on ${port} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** How a {@link TestNatsServer} is configured. */
export interface TestNatsServerOptions {
  /**
   * Extra nats-server configuration (its own syntax), such as an `authorization { users: [...] }`
   * block; address, port, JetStream and its store still come from the command line.
   */
  config?: string;
}

/** A private nats-server with JetStream, for one test file: no other run sees its subjects or streams. */
export class TestNatsServer {
  private process: ChildProcess | undefined;
  private readonly storeDir = mkdtempSync(join(tmpdir(), 'portico-nats-'));
  port = 0;

  constructor(private readonly options: TestNatsServerOptions = {}) {}

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  /** Starts it (again, on the same port and store, after {@link stop}). */
  async start(): Promise<void> {
    if (this.port === 0) this.port = await freePort();
    const args = ['-a', '127.0.0.1', '-p', String(this.port), '-js', '-sd', this.storeDir];
    if (this.options.config !== undefined) args.push('-c', this.writeConfig(this.options.config));
    this.process = spawn(natsServerBinary(), args, { stdio: 'ignore' });
    await waitForPort(this.port);
  }

  private writeConfig(config: string): string {
    const file = join(this.storeDir, 'nats-server.conf');
    writeFileSync(file, config);
    return file;
  }

  /** Stops it; the JetStream store is kept for a restart. */
  async stop(): Promise<void> {
    const child = this.process;
    if (!child || child.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  }

  /** Stops it and removes its store. */
  async destroy(): Promise<void> {
    await this.stop();
    rmSync(this.storeDir, { recursive: true, force: true });
  }
}

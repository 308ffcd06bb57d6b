import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
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

/** How a {@link TestNatsServer} is configured. */
export interface TestNatsServerOptions {
  /**
   * Extra nats-server configuration (its own syntax), such as an `authorization { users: [...] }`
   * block; address, port, JetStream and its store still come from the command line.
   */
  config?: string;
  /** Runs it with debug logging (`-D`: every client connection, its authentication, its end), kept for {@link TestNatsServer.describe}. */
  debug?: boolean;
}

/** The name of a test server's JetStream store in the temporary folder: this prefix and six characters of mkdtemp's. */
const STORE_PREFIX = 'portico-nats-';
const STORE_NAME = /^portico-nats-[A-Za-z0-9]{6}$/;

/** A store not changed for this long is left over (its run was interrupted: Ctrl-C, a killed worker): no test file runs for hours. */
const ABANDONED_AFTER_MS = 6 * 60 * 60 * 1000;

let sweptAbandonedStores = false;

/**
 * A new store in the temporary folder. The first of a test file first removes the stores of the
 * shape {@link TestNatsServer} makes that were not changed for {@link ABANDONED_AFTER_MS}: an
 * interrupted run leaves its own behind ({@link TestNatsServer.destroy} never ran), which nothing
 * else removes.
 */
function newStoreDir(): string {
  if (!sweptAbandonedStores) {
    sweptAbandonedStores = true;
    removeAbandonedStores(tmpdir(), Date.now() - ABANDONED_AFTER_MS);
  }
  return mkdtempSync(join(tmpdir(), STORE_PREFIX));
}

/** Removes the stores in `folder` last changed before `before` (ms); one that cannot be read or removed is left. */
export function removeAbandonedStores(folder: string, before: number): void {
  for (const name of readdirSync(folder)) {
    if (!STORE_NAME.test(name)) continue;
    const path = join(folder, name);
    try {
      const stat = statSync(path);
      if (stat.isDirectory() && stat.mtimeMs < before) rmSync(path, { recursive: true, force: true });
    } catch {
      // Removed meanwhile by its own run, or not ours to remove: left.
    }
  }
}

/** A private nats-server with JetStream, for one test file: no other run sees its subjects or streams. */
export class TestNatsServer {
  private process: ChildProcess | undefined;
  private readonly storeDir = newStoreDir();
  private recentLog: string[] = [];
  port = 0;

  constructor(private readonly options: TestNatsServerOptions = {}) {}

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  /**
   * Starts it (again, on the same port and store, after {@link stop}) and waits until it says it is
   * ready. A port picked free can be taken by a parallel test before nats-server binds it: the
   * server then exits, and would leave the port to whatever took it (an HTTP server, say, where a
   * NATS client waits 20 s for a greeting that never comes). A first start then tries another port.
   */
  async start(): Promise<void> {
    const restart = this.port !== 0;
    for (let attempt = 1; ; attempt += 1) {
      if (!restart) this.port = await freePort();
      const outcome = await this.launch();
      if (outcome.ready) return;
      if (restart || attempt === 5) throw new Error(`nats-server did not start on port ${this.port}:\n${outcome.log}`);
    }
  }

  /** Spawns nats-server on {@link port}; resolves once it logs that it is ready, or with its log once it exits. */
  private launch(): Promise<{ ready: boolean; log: string }> {
    const args = ['-a', '127.0.0.1', '-p', String(this.port), '-js', '-sd', this.storeDir];
    if (this.options.config !== undefined) args.push('-c', this.writeConfig(this.options.config));
    if (this.options.debug) args.push('-D');
    const child = spawn(natsServerBinary(), args, { stdio: ['ignore', 'ignore', 'pipe'] });
    this.process = child;
    this.recentLog = [];
    return new Promise((resolve, reject) => {
      let log = '';
      const timer = setTimeout(() => reject(new Error(`nats-server not ready on port ${this.port} after 10 s:\n${log}`)), 10_000);
      child.stderr.on('data', (chunk: Buffer) => {
        this.keepRecent(chunk.toString());
        if (log.includes('Server is ready')) return;
        log += chunk.toString();
        if (log.includes('Server is ready')) {
          clearTimeout(timer);
          resolve({ ready: true, log });
        }
      });
      child.once('exit', () => {
        clearTimeout(timer);
        resolve({ ready: false, log });
      });
    });
  }

  /** Keeps the last 200 lines of its log (the pipe is read for ever, so that it never fills). */
  private keepRecent(text: string): void {
    this.recentLog.push(...text.split('\n').filter((line) => line !== ''));
    if (this.recentLog.length > 200) this.recentLog = this.recentLog.slice(-200);
  }

  /** What a failing test should print about it: its port, whether it still runs, and the end of its log. */
  describe(): string {
    const child = this.process;
    const state = !child
      ? 'never started'
      : child.exitCode !== null || child.signalCode !== null
        ? `exited (${child.exitCode ?? child.signalCode})`
        : 'running';
    return [`nats-server on port ${this.port}, pid ${child?.pid}, ${state}; its last log lines:`, ...this.recentLog].join('\n');
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

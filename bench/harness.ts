import { execSync, fork, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { cpus } from 'node:os';

/** One measured figure. */
export interface BenchResult {
  id: string;
  scenario: string;
  value: number;
  unit: string;
  target?: string;
  pass?: boolean;
  details?: Record<string, unknown>;
  /** Prose about the scenario, printed under the table. */
  markdown?: string;
  /** When, at which commit, and at what load average (1 minute) its group started. */
  run?: { ranAt: string; commit: string; loadAtStart: number };
}

/** Latency percentiles (ms) of a list of durations (ms). */
export function percentiles(samples: number[]): { p50: number; p95: number; p99: number; max: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  return { p50: at(0.5), p95: at(0.95), p99: at(0.99), max: sorted[sorted.length - 1] ?? 0 };
}

/** The median of a list. */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

/**
 * Keeps `concurrency` calls of `call` in flight for `durationMs` (bounded also by `maxCalls`);
 * returns calls per second and latency percentiles.
 */
export async function closedLoop(call: () => Promise<unknown>, options: { concurrency: number; durationMs: number; maxCalls?: number }) {
  const latencies: number[] = [];
  const started = performance.now();
  const deadline = started + options.durationMs;
  const maxCalls = options.maxCalls ?? Number.MAX_SAFE_INTEGER;
  let issued = 0;
  let failures = 0;
  const worker = async () => {
    while (performance.now() < deadline && issued < maxCalls) {
      issued += 1;
      const t0 = performance.now();
      try {
        await call();
      } catch {
        failures += 1;
      }
      latencies.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  const seconds = (performance.now() - started) / 1000;
  return { perSecond: latencies.length / seconds, calls: latencies.length, failures, ...percentiles(latencies) };
}

/**
 * The parts of a bench group named in environment variable `variable` (a comma-separated list,
 * all of `known` when unset); an unknown name stops the bench instead of measuring nothing.
 */
export function benchParts<P extends string>(variable: string, known: readonly P[]): P[] {
  const named = process.env[variable]
    ?.split(',')
    .map((part) => part.trim())
    .filter(Boolean);
  if (!named) return [...known];
  const unknown = named.filter((part) => !known.includes(part as P));
  if (unknown.length > 0) throw new Error(`${variable}: unknown part ${unknown.join(', ')} (known: ${known.join(', ')})`);
  return named as P[];
}

/** Machine, date and commit, printed beside every result. */
export function environment(): Record<string, string | number> {
  let commit = 'unknown';
  try {
    commit = execSync('git rev-parse --short HEAD', { stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
    // Measured on a tree with changes not yet committed: the commit alone would not say what ran.
    // (The results an earlier group of this run wrote do not count: they are not what runs.)
    if (
      execSync("git status --porcelain -- . ':!bench/results.json' ':!docs/BENCHMARKS.md'", { stdio: ['ignore', 'pipe', 'ignore'] })
        .toString()
        .trim()
    )
      commit += '-dirty';
  } catch {
    /* not a checkout */
  }
  return { date: new Date().toISOString(), commit, node: process.version, cpus: cpus().length, cpu: cpus()[0]?.model ?? 'unknown' };
}

/** Starts a node script as a child process with `env`; resolves once `ready` says so. */
export async function startProcess(script: string, env: Record<string, string>, ready: () => Promise<boolean>): Promise<ChildProcess> {
  const child = spawn(process.execPath, [...profilingArgs(), script], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'inherit'] });
  process.once('exit', () => child.kill('SIGKILL'));
  const deadline = Date.now() + 30_000;
  while (!(await ready())) {
    if (child.exitCode !== null) throw new Error(`${script} exited with ${child.exitCode}`);
    if (Date.now() > deadline) throw new Error(`${script} did not become ready`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return child;
}

/** Stops a child process and waits for it. */
export async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  await new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

/** CPU seconds a process (or one of its threads) has used so far, from /proc (Linux; 0 elsewhere). */
export function cpuSecondsOf(pid: number | undefined, thread?: number): number {
  if (!pid) return 0;
  try {
    const stat = readFileSync(thread ? `/proc/${pid}/task/${thread}/stat` : `/proc/${pid}/stat`, 'utf8');
    const fields = stat.split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

/**
 * Runs `measure` and adds what the processes off the measured path (`pids`) spent of the CPU
 * meanwhile (ms): on two cores, an idle service's own housekeeping (V8's memory reducer, a
 * timer's work) takes a core from the path for as long.
 */
export async function withOffPathCpu<T extends object>(pids: Array<number | undefined>, measure: () => Promise<T>): Promise<T & { offPathCpuMs: number }> {
  const before = pids.map((pid) => cpuSecondsOf(pid));
  const result = await measure();
  const used = pids.reduce<number>((sum, pid, i) => sum + cpuSecondsOf(pid) - before[i], 0);
  return { ...result, offPathCpuMs: Math.round(used * 1000) };
}

/**
 * CPU seconds used so far by every process whose command name starts with `prefix` (e.g. all of
 * PostgreSQL's). A reading for a quiet machine: it counts every such process (other databases'
 * backends, autovacuum), misses those that ended between two readings, and sees nothing of a
 * server in another machine or PID namespace.
 */
export function cpuSecondsOfNamed(prefix: string): number {
  let total = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (stat.slice(stat.indexOf('(') + 1).startsWith(prefix)) total += cpuSecondsOf(Number(entry));
    } catch {
      // The process ended meanwhile.
    }
  }
  return total;
}

/**
 * Node flags for every Node process the bench starts but its load generators (the services, and the
 * baselines' processes, which get the same runtime): BENCH_NODE_ARGS (space-separated, e.g.
 * `--max-semi-space-size=64`; what a flag prints is not kept), and when BENCH_PROFILE_DIR is set,
 * a CPU profile of each, written when it stops.
 */
export function profilingArgs(): string[] {
  const extra = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const dir = process.env.BENCH_PROFILE_DIR;
  return dir ? [...extra, '--cpu-prof', `--cpu-prof-dir=${dir}`] : extra;
}

/** The status and body text of an HTTP answer. */
export interface HttpAnswer {
  status: number;
  body: string;
}

/**
 * A plain HTTP/1.1 client over kept-alive sockets (node:http). The load generator shares the
 * machine with what it measures, so its own cost per request matters: fetch (undici's WHATWG
 * layer) spends ~1.3 ms of CPU a request here, this a small fraction of that.
 */
export function keepAliveClient(baseUrl: string, maxSockets: number) {
  const agent = new Agent({ keepAlive: true, maxSockets });
  const base = new URL(baseUrl);
  const send = (method: string, path: string, headers: Record<string, string>, body?: string) =>
    new Promise<HttpAnswer>((resolve, reject) => {
      const request = httpRequest({ agent, host: base.hostname, port: base.port, method, path, headers }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
        response.on('error', reject);
      });
      request.on('error', reject);
      request.end(body);
    });
  return {
    get: (path: string, headers: Record<string, string> = {}) => send('GET', path, headers),
    postJson: (path: string, value: unknown, headers: Record<string, string> = {}) => {
      const body = JSON.stringify(value);
      return send('POST', path, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), ...headers }, body);
    },
    close: () => agent.destroy(),
  };
}

/**
 * Starts calls at a fixed rate, whatever the answers do (an open loop), for `durationMs`: for
 * latency at a stated load, where a closed loop at full concurrency would only measure queueing
 * (Little's law). The pacing never waits for answers, so a slow answer cannot hold the load
 * back; latency counts from each call's start (the 1 ms pacing tick is not counted as waiting).
 * The same load runs for `warmUpMs` first, unmeasured: switching from another load (new
 * connections, the heap it left behind) is not the latency at this one.
 */
export async function openLoop(call: () => Promise<unknown>, options: { ratePerSecond: number; durationMs: number; warmUpMs?: number }) {
  const warmUpMs = options.warmUpMs ?? 2000;
  if (warmUpMs > 0) await openLoop(call, { ...options, durationMs: warmUpMs, warmUpMs: 0 });
  const latencies: number[] = [];
  let failures = 0;
  let outstanding = 0;
  let drained: (() => void) | undefined;
  const finish = (latency?: number) => {
    if (latency === undefined) failures += 1;
    else latencies.push(latency);
    outstanding -= 1;
    if (outstanding === 0) drained?.();
  };
  const started = performance.now();
  const interval = 1000 / options.ratePerSecond;
  let issued = 0;
  while (performance.now() - started < options.durationMs) {
    const due = Math.floor((performance.now() - started) / interval);
    for (; issued <= due; issued += 1) {
      const sent = performance.now();
      outstanding += 1;
      call().then(
        () => finish(performance.now() - sent),
        () => finish(),
      );
    }
    // A 1 ms tick (what was due since the last one leaves together): a spinning loop would take a core from what it measures.
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  if (outstanding > 0) await new Promise<void>((resolve) => (drained = resolve));
  return { perSecond: latencies.length / ((performance.now() - started) / 1000), calls: latencies.length, failures, ...percentiles(latencies) };
}

/** What one open-loop run measured (see {@link openLoop}). */
export type OpenLoopResult = Awaited<ReturnType<typeof openLoop>>;

/** What a {@link LoadGenerator} loads: GETs of one path, or requests on one NATS subject. */
export type LoadTarget =
  | { kind: 'http-get'; baseUrl: string; path: string; headers: Record<string, string> }
  | { kind: 'nats-request'; natsUrl: string; subject: string; data: unknown };

/** An open loop for a {@link LoadGenerator}: its target at a fixed rate. */
export type LoadOrder = { ratePerSecond: number; durationMs: number; warmUpMs: number } & LoadTarget;

/**
 * An open loop run by a process of its own (bench/load-worker.ts), for latency at a stated load:
 * the bench process's heap and pauses stay out of the measured latency. {@link start} forks it
 * and returns once it has run the load unmeasured for `warmUpMs` (new connections, JIT);
 * {@link measure} then runs the measured loop, once; the worker exits after it. A worker that
 * dies fails the wait instead of hanging it; {@link stop} ends one that was never measured.
 */
export class LoadGenerator {
  private readonly exited: Promise<never>;

  private constructor(private readonly child: ChildProcess) {
    this.exited = once(child, 'exit').then(([code]) => {
      throw new Error(`the load generator exited (${String(code)}) before it answered`);
    });
    this.exited.catch(() => undefined);
  }

  static async start(order: LoadOrder): Promise<LoadGenerator> {
    const generator = new LoadGenerator(fork(new URL('./load-worker.js', import.meta.url), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
    generator.child.send(order);
    try {
      await generator.next();
    } catch (error) {
      generator.stop();
      throw error;
    }
    return generator;
  }

  async measure(): Promise<OpenLoopResult> {
    this.child.send('go');
    return (await this.next()) as OpenLoopResult;
  }

  /** Ends the worker (it ends by itself after {@link measure}). */
  stop(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }

  /** The worker's next message; an error message or its exit fails it. */
  private async next(): Promise<unknown> {
    const [message] = (await Promise.race([once(this.child, 'message'), this.exited])) as [unknown];
    if (typeof message === 'object' && message !== null && 'error' in message) throw new Error(`the load generator failed: ${String(message.error)}`);
    return message;
  }
}

/** What a process that only wakes each millisecond measured: how late it woke (ms); and the machine's steal time meanwhile. */
export interface WakeupDelays {
  p50: number;
  p99: number;
  max: number;
  /** Share of the machine's CPU time its hypervisor gave to others meanwhile (% of all CPU time, from /proc/stat). */
  stealPercent: number;
  /** Share of the machine's CPU time that was busy meanwhile, any process or the kernel (% of all CPU time: not idle, not waiting for I/O). */
  busyPercent: number;
}

/** The machine's CPU time so far (all of it, idle or waiting for I/O, and stolen by the hypervisor), in clock ticks. */
function machineTicks(): { total: number; idle: number; steal: number } {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1, 9).map(Number);
  return { total: fields.reduce((sum, value) => sum + value, 0), idle: (fields[3] ?? 0) + (fields[4] ?? 0), steal: fields[7] ?? 0 };
}

/** What share (%, one decimal) of the machine's CPU time between two readings went to `part`. */
function shareOfTicks(
  before: ReturnType<typeof machineTicks>,
  after: ReturnType<typeof machineTicks>,
  part: (ticks: ReturnType<typeof machineTicks>) => number,
): number {
  return Math.round((1000 * (part(after) - part(before))) / Math.max(1, after.total - before.total)) / 10;
}

const PROBE_SCRIPT = `
const late = [];
let last = performance.now();
const timer = setInterval(() => { const now = performance.now(); late.push(now - last - 1); last = now; }, 1);
process.stdin.on('end', () => {
  clearInterval(timer);
  late.sort((a, b) => a - b);
  const at = (q) => late[Math.min(late.length - 1, Math.floor(q * late.length))] ?? 0;
  process.stdout.write(JSON.stringify({ p50: at(0.5), p99: at(0.99), max: late[late.length - 1] ?? 0 }));
});
process.stdin.resume();
`;

/**
 * Runs `measure` beside a process that does nothing but wake every millisecond and note how
 * late it woke: the machine's own scheduling delay under the same load, the floor under any
 * latency measured in that time (a request crosses several processes, each woken on the way).
 */
export async function withWakeupProbe<T>(measure: () => Promise<T>): Promise<{ result: T; wakeupDelays: WakeupDelays }> {
  const probe = spawn(process.execPath, ['-e', PROBE_SCRIPT], { stdio: ['pipe', 'pipe', 'inherit'] });
  let output = '';
  probe.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => probe.once('exit', () => resolve()));
  const before = machineTicks();
  try {
    const result = await measure();
    const after = machineTicks();
    probe.stdin.end();
    await exited;
    const stealPercent = shareOfTicks(before, after, (ticks) => ticks.steal);
    const busyPercent = shareOfTicks(before, after, (ticks) => ticks.total - ticks.idle - ticks.steal);
    return { result, wakeupDelays: { ...(JSON.parse(output) as Omit<WakeupDelays, 'stealPercent' | 'busyPercent'>), stealPercent, busyPercent } };
  } finally {
    probe.kill();
  }
}

import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';
import { TestNatsRequester } from '#libs/testing/nats-rpc.js';
import { freePort } from '#libs/testing/nats-server.js';
import { TestSystem, TEST_WEB_URL } from '#libs/testing/system.js';
import { loadCatalog } from '../apps/access/src/catalog/catalog.loader.js';
import { BUILTIN_ROLE_PREFIX, DecisionStore, type AccountSnapshot } from '../apps/access/src/checks/decision-store.js';
import {
  benchParts,
  closedLoop,
  cpuSecondsOf,
  keepAliveClient,
  median,
  LoadGenerator,
  percentiles,
  profilingArgs,
  startProcess,
  stopProcess,
  withOffPathCpu,
  withWakeupProbe,
  type BenchResult,
  type LoadTarget,
  type OpenLoopResult,
  type WakeupDelays,
} from './harness.js';

const RUNS = 3;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
/** How long a load runs, unmeasured, before it is measured. */
const WARM_UP_MS = 2000;

/** C1, C2, G1 against the real services; C3 in process; R1 memory of each service. BENCH_ACCESS=C,G,... narrows it: C (C1 and C2), C3, G (G1), R1. */
export async function runAccessBenchmarks(): Promise<BenchResult[]> {
  const parts = benchParts('BENCH_ACCESS', ['C', 'C3', 'G', 'R1'] as const);
  const results: BenchResult[] = [];
  if (parts.includes('C3')) results.push(...decisionInProcess());
  const system = new TestSystem({ env: { LOG_LEVEL: 'error' }, nodeArgs: profilingArgs() });
  await system.start();
  const nats = await TestNatsRequester.open(system.nats.url);
  const echoPort = await freePort();
  const echo = await startEcho(system, echoPort);
  try {
    const owner = await seedAccount(system, nats);
    if (parts.includes('R1')) results.push(...memory(system, 'idle'));
    // Off C1's path: the services it does not load, and the baselines' process (idle while access is measured).
    const offC1Path = [system.pidOf('gateway'), system.pidOf('identity'), system.pidOf('notifications'), echo.pid];
    if (parts.includes('C'))
      results.push(...(await checksOverNats(nats, system.nats.url, owner, { access: system.pidOf('access'), echo: echo.pid, offPath: offC1Path })));
    if (parts.includes('G')) results.push(...(await gatewayRoute(system, owner, { port: echoPort, pid: echo.pid })));
    if (parts.includes('R1')) results.push(...memory(system, 'after load'));
  } finally {
    await stopProcess(echo);
    await nats.close();
    await system.stop();
  }
  return results;
}

interface Seeded {
  accountId: string;
  token: string;
  principal: { type: 'subuser'; id: string };
  applications: string[];
}

async function seedAccount(system: TestSystem, nats: TestNatsRequester): Promise<Seeded> {
  const post = (path: string, body: unknown, token?: string) =>
    fetch(`${system.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token && { authorization: `Bearer ${token}` }) },
      body: JSON.stringify(body),
    }).then(async (r) => {
      const body = r.status === 204 ? {} : ((await r.json()) as Record<string, string>);
      if (!r.ok) throw new Error(`Seeding failed at ${path}: ${r.status} ${JSON.stringify(body)}`);
      return body;
    });
  const account = await post('/v1/accounts', {
    name: 'Bench',
    slug: 'bench',
    owner: { firstName: 'B', lastName: 'B', email: 'bench@bench.test', phone: '+447700900123' },
  });
  const mail = await system.mail.waitFor((m) => m.to.includes('bench@bench.test'));
  const token = new URL(mail.links.find((l) => l.startsWith(`${TEST_WEB_URL}/activate`))!).searchParams.get('token')!;
  await post('/v1/auth/activate', { token, password: 'correct horse battery staple' });
  const login = await post('/v1/auth/login', { email: 'bench@bench.test', password: 'correct horse battery staple' });
  const applications: string[] = [];
  for (let i = 0; i < 5; i += 1) applications.push((await post(`/v1/accounts/${account.id}/applications`, { name: `App ${i}` }, login.accessToken)).id);
  const principal = { type: 'subuser' as const, id: '00000000-0000-4000-8000-00000000be01' };
  const bound = await nats.send('access.bindings.replace', {
    actor: { type: 'user', id: account.ownerId },
    accountId: account.id,
    principal,
    bindings: [{ role: 'Developer', applicationIds: applications.slice(0, 2) }, { role: 'Accountant' }],
  });
  if (bound.err) throw new Error(`Seeding failed: ${JSON.stringify(bound.err)}`);
  return { accountId: account.id, token: login.accessToken, principal, applications };
}

async function checksOverNats(
  nats: TestNatsRequester,
  natsUrl: string,
  seeded: Seeded,
  pids: { access?: number; echo?: number; offPath: Array<number | undefined> },
): Promise<BenchResult[]> {
  const check = { principal: seeded.principal, accountId: seeded.accountId, section: 'scenarios', action: 'write', applicationId: seeded.applications[1] };
  const payload = { principal: seeded.principal, accountId: seeded.accountId, section: 'scenarios', action: 'write' };
  // Each run also reads the CPU the answering process spent per message (us), the figure the ratio hangs on.
  const measure = async (subject: string, data: unknown, concurrency: number, responder: number | undefined) => {
    await closedLoop(() => nats.send(subject, data), { concurrency, durationMs: 1000 });
    const runs = [];
    for (let i = 0; i < RUNS; i += 1) {
      const cpuBefore = cpuSecondsOf(responder);
      const run = await closedLoop(() => nats.send(subject, data), { concurrency, durationMs: SECONDS * 1000 });
      runs.push({ ...run, cpuUsPerMessage: ((cpuSecondsOf(responder) - cpuBefore) * 1e6) / run.calls });
    }
    return runs;
  };
  const echoRuns = await measure('bench.echo', payload, 64, pids.echo);
  const checkRuns = await measure('access.check', check, 64, pids.access);
  const batch = { checks: Array.from({ length: 100 }, (_, i) => ({ ...check, applicationId: seeded.applications[i % seeded.applications.length] })) };
  const batchRuns = await measure('access.check.batch', batch, 16, pids.access);
  const echoRate = median(echoRuns.map((r) => r.perSecond));
  const checkRate = median(checkRuns.map((r) => r.perSecond));
  const ratio = checkRate / echoRate;
  // Latency at a stated load: checks started at half the throughput just measured, whatever the answers do.
  const checks = openLoopOf({ kind: 'nats-request', natsUrl, subject: 'access.check', data: check });
  // The echo handler at the same rate, run after each: Nest's own NATS transport doing nothing.
  const echoes = openLoopOf({ kind: 'nats-request', natsUrl, subject: 'bench.echo', data: payload });
  // And a plain nats.js responder answering fixed bytes: what the machine, NATS and this load generator cost a request, with no service work at all.
  const rawReplies = openLoopOf({ kind: 'nats-request', natsUrl, subject: 'bench.raw', data: payload });
  const halfLoadRuns = [];
  const echoHalfLoadRuns = [];
  const rawHalfLoadRuns = [];
  for (let i = 0; i < RUNS; i += 1) {
    const generator = await checks(Math.round(checkRate / 2));
    halfLoadRuns.push(await withOffPathCpu(pids.offPath, () => withWakeupProbe(() => generator.measure())).finally(() => generator.stop()));
    echoHalfLoadRuns.push(await measuredOnce(echoes(Math.round(checkRate / 2))));
    rawHalfLoadRuns.push(await measuredOnce(rawReplies(Math.round(checkRate / 2))));
  }
  const atHalfLoad = medianOfRuns(halfLoadRuns);
  const p99 = atHalfLoad.p99;
  // And at the anchor's rate: SpiceDB's 1.5k checks/s per vCPU, for our 2.
  const atAnchorRate = await measuredOnce(checks(3000));
  // And at a quarter of the throughput, for comparison (the target is judged at half).
  const atQuarterLoad = await measuredOnce(checks(Math.round(checkRate / 4)));
  const checksPerSecond = median(batchRuns.map((r) => r.perSecond)) * 100;
  return [
    {
      id: 'C1',
      scenario: 'access.check over NATS, 64 in flight, vs a Nest NATS echo handler',
      value: Math.round(ratio * 100),
      unit: '% of echo',
      target: '>= 85%; p99 <= 2 ms at half load',
      pass: ratio >= 0.85 && p99 <= 2 && atHalfLoad.failures === 0,
      markdown: C1_G1_NOTES,
      details: {
        checksPerSecond: Math.round(checkRate),
        echoPerSecond: Math.round(echoRate),
        halfLoadPerSecond: Math.round(atHalfLoad.perSecond),
        halfLoadP50: round(atHalfLoad.p50),
        halfLoadP99: round(p99),
        halfLoadP99Runs: atHalfLoad.p99Runs,
        echoAtHalfLoadP99: round(median(echoHalfLoadRuns.map((run) => run.p99))),
        echoAtHalfLoadP99Runs: echoHalfLoadRuns.map((run) => round(run.p99)),
        rawResponderAtHalfLoadP99: round(median(rawHalfLoadRuns.map((run) => run.p99))),
        rawResponderAtHalfLoadP99Runs: rawHalfLoadRuns.map((run) => round(run.p99)),
        baselinesAtHalfLoadFailures: [...echoHalfLoadRuns, ...rawHalfLoadRuns].reduce((sum, run) => sum + run.failures, 0),
        halfLoadWakeupDelayP99: round(atHalfLoad.wakeupDelayP99),
        halfLoadStealPercent: atHalfLoad.stealPercent,
        halfLoadMachineBusyPercent: atHalfLoad.machineBusyPercent,
        halfLoadOffPathCpuMsRuns: atHalfLoad.offPathCpuMsRuns,
        quarterLoadPerSecond: Math.round(atQuarterLoad.perSecond),
        quarterLoadP99: round(atQuarterLoad.p99),
        quarterLoadFailures: atQuarterLoad.failures,
        p95At3kPerSecond: round(atAnchorRate.p95),
        p99At3kPerSecond: round(atAnchorRate.p99),
        p50At64InFlight: round(median(checkRuns.map((r) => r.p50))),
        p99At64InFlight: round(median(checkRuns.map((r) => r.p99))),
        echoP99At64InFlight: round(median(echoRuns.map((r) => r.p99))),
        runs: checkRuns.map((r) => Math.round(r.perSecond)),
        cpuUsPerMessage: `access ${Math.round(median(checkRuns.map((r) => r.cpuUsPerMessage)))}, echo ${Math.round(median(echoRuns.map((r) => r.cpuUsPerMessage)))}`,
      },
    },
    {
      id: 'C2',
      scenario: 'access.check.batch, 100 checks a message, 16 in flight',
      value: Math.round(checksPerSecond),
      unit: 'checks/s',
      target: '>= 200k checks/s',
      pass: checksPerSecond >= 200_000,
      details: {
        messagesPerSecond: Math.round(checksPerSecond / 100),
        p99: round(median(batchRuns.map((r) => r.p99))),
        accessCpuUsPerMessage: Math.round(median(batchRuns.map((r) => r.cpuUsPerMessage))),
      },
    },
  ];
}

async function gatewayRoute(system: TestSystem, seeded: Seeded, echo: { port: number; pid?: number }): Promise<BenchResult[]> {
  const processes = { bench: process.pid, gateway: system.pidOf('gateway'), access: system.pidOf('access'), echo: echo.pid };
  // Off G1's path while it is measured: the services it does not load, and the baselines' process.
  const offPath = [system.pidOf('identity'), system.pidOf('notifications'), echo.pid];
  const load = async (url: string, headers: Record<string, string> = {}) => {
    await autocannon({ url, connections: 64, duration: 1, headers });
    const runs = [];
    const cpuBefore = Object.values(processes).map((pid) => cpuSecondsOf(pid));
    for (let i = 0; i < RUNS; i += 1) runs.push(await autocannon({ url, connections: 64, duration: SECONDS, headers }));
    const requests = runs.reduce((n, r) => n + r.requests.total, 0);
    const cpuUsPerRequest = Object.keys(processes).map((name, i) => {
      const used = cpuSecondsOf(Object.values(processes)[i]) - cpuBefore[i];
      return `${name} ${Math.round((used * 1e6) / requests)}`;
    });
    return {
      cpuUsPerRequest: cpuUsPerRequest.filter((entry) => !entry.endsWith(' 0')).join(', '),
      rps: median(runs.map((r) => r.requests.average)),
      p99: median(runs.map((r) => r.latency.p99)),
      errors: runs.reduce((n, r) => n + r.errors + r.non2xx, 0),
      statuses: runs.map((r) => `2xx ${r['2xx']} 4xx ${r['4xx']} 5xx ${r['5xx']} errors ${r.errors} timeouts ${r.timeouts}`),
    };
  };
  const bare = await load(`http://127.0.0.1:${echo.port}/hello`);
  // For reference: the same bare route on Nest's stock Express adapter (Express swaps each request's prototype).
  const stockPort = await freePort();
  const stockEcho = await startEcho(system, stockPort, { BARE_ADAPTER: 'express' });
  const stock = await load(`http://127.0.0.1:${stockPort}/hello`).finally(() => stopProcess(stockEcho));
  const routedUrl = `${system.url}/v1/accounts/${seeded.accountId}/permissions?applicationId=${seeded.applications[0]}`;
  const routedHeaders = { authorization: `Bearer ${seeded.token}` };
  const routed = await load(routedUrl, routedHeaders);
  const ratio = routed.rps / bare.rps;
  // Latency at a stated load: the same route started at half the throughput just measured, whatever the answers do
  // (autocannon's overallRate sends each second's quota in a burst, which measures the burst instead).
  const client = keepAliveClient(system.url, 1);
  const routedPath = routedUrl.slice(system.url.length);
  const halfLoad = { ratePerSecond: Math.max(1, Math.round(routed.rps / 2)), durationMs: SECONDS * 1000 };
  const routedLoad = openLoopOf({ kind: 'http-get', baseUrl: system.url, path: routedPath, headers: routedHeaders });
  const measureHalfLoad = async () => {
    // Unmeasured first (in start): the generator's new connections, and the heap the full load left in the gateway.
    const generator = await routedLoad(halfLoad.ratePerSecond);
    try {
      const serverSideBefore = await durationBuckets(system.metricsUrl, routedPath.split('?')[0]);
      const gatewayCpuBefore = cpuSecondsOf(processes.gateway);
      const run = await withOffPathCpu(offPath, () => withWakeupProbe(() => generator.measure()));
      // Requests one at a time cost the gateway more than when many share each system call: how busy "half" load kept it.
      const gatewayBusy = (cpuSecondsOf(processes.gateway) - gatewayCpuBefore) / (halfLoad.durationMs / 1000);
      // The gateway's own histogram over the same requests: what it spent from its metrics middleware to the answer.
      const metricsAfter = await metricsText(system.metricsUrl);
      const serverSide = bucketDifference(bucketsIn(metricsAfter, routedPath.split('?')[0]), serverSideBefore);
      return { ...run, gatewayBusy, within25ms: serverSide.within(0.025), eventLoopLag: eventLoopLagIn(metricsAfter) };
    } finally {
      generator.stop();
    }
  };
  // The bare route at the same rate, run after each: the floor that the machine and the load generator set.
  const bareLoad = openLoopOf({ kind: 'http-get', baseUrl: `http://127.0.0.1:${echo.port}`, path: '/hello', headers: {} });
  const halfLoadRuns = [];
  const bareHalfLoadRuns = [];
  try {
    for (let i = 0; i < RUNS; i += 1) {
      halfLoadRuns.push(await measureHalfLoad());
      bareHalfLoadRuns.push(await measuredOnce(bareLoad(halfLoad.ratePerSecond)));
    }
  } finally {
    client.close();
  }
  const atHalfLoad = medianOfRuns(halfLoadRuns);
  // And at a quarter of the throughput, for comparison (the target is judged at half).
  const atQuarterLoad = await measuredOnce(routedLoad(Math.max(1, Math.round(routed.rps / 4))));
  return [
    {
      id: 'G1',
      scenario: 'authenticated gateway GET (JWT verify + permission + one NATS hop) vs a bare Nest route, 64 connections',
      value: Math.round(ratio * 100),
      unit: '% of bare',
      target: '>= 35%; p99 <= 25 ms at half load',
      pass: ratio >= 0.35 && atHalfLoad.p99 <= 25 && routed.errors === 0 && atHalfLoad.failures === 0,
      details: {
        gatewayRps: Math.round(routed.rps),
        bareRps: Math.round(bare.rps),
        stockExpressBareRps: Math.round(stock.rps),
        percentOfStockExpressBare: Math.round((100 * routed.rps) / stock.rps),
        halfLoadRps: Math.round(atHalfLoad.perSecond),
        halfLoadP50: round(atHalfLoad.p50),
        halfLoadP99: round(atHalfLoad.p99),
        halfLoadP99Runs: atHalfLoad.p99Runs,
        bareAtHalfLoadP99: round(median(bareHalfLoadRuns.map((run) => run.p99))),
        bareAtHalfLoadP99Runs: bareHalfLoadRuns.map((run) => round(run.p99)),
        halfLoadShareWithin25msInGateway: halfLoadRuns.map((run) => run.within25ms).join(', '),
        halfLoadGatewayEventLoopLag: halfLoadRuns.map((run) => `p99 ${run.eventLoopLag.p99} max ${run.eventLoopLag.max}`).join(', '),
        halfLoadWakeupDelayP99: round(atHalfLoad.wakeupDelayP99),
        halfLoadStealPercent: atHalfLoad.stealPercent,
        halfLoadMachineBusyPercent: atHalfLoad.machineBusyPercent,
        halfLoadOffPathCpuMsRuns: atHalfLoad.offPathCpuMsRuns,
        halfLoadGatewayBusy: `${Math.round(100 * median(halfLoadRuns.map((run) => run.gatewayBusy)))} %`,
        halfLoadGatewayCpuUsPerRequest: Math.round((1e6 * median(halfLoadRuns.map((run) => run.gatewayBusy))) / halfLoad.ratePerSecond),
        quarterLoadRps: Math.round(atQuarterLoad.perSecond),
        quarterLoadP99: round(atQuarterLoad.p99),
        quarterLoadFailures: atQuarterLoad.failures,
        p99At64Connections: routed.p99,
        bareP99At64Connections: bare.p99,
        errors: routed.errors,
        cpuUsPerRequest: routed.cpuUsPerRequest,
        bareCpuUsPerRequest: bare.cpuUsPerRequest,
        statuses: routed.statuses,
      },
    },
  ];
}

const C1_G1_NOTES = `## C1 and G1: throughput, and latency at a stated load

Throughput is measured in a closed loop at full concurrency (64 checks in flight, 64 HTTP connections), against its
baseline in the same run. Latency is measured in an open loop: calls start at a fixed rate, half the throughput just
measured, whatever the answers do, and each counts from its own start. The half-load latency is the median of three
runs, as throughput is; each run's p99 is beside it (\`halfLoadP99Runs\`): on two shared cores one run's tail can be
several times another's. The open loop runs in a process of its own
(\`bench/load-worker.ts\`), warmed up for 2 s at the same rate first: the bench process holds what the earlier scenarios
left in its heap (C3's decisions for 10k principals), and its pauses are not the service's latency. C1 also reports the latency at 3k checks/s,
SpiceDB's 1.5k checks/s per vCPU for our two. Both also report it at a quarter of the throughput (\`quarterLoadP99\`),
for comparison only: the target is judged at half. On two shared cores the tail shrinks with the load much less than
queueing alone would make it: the service, NATS and the load generator still take turns on the same two cores. The p99 of the closed loop is kept beside (\`p99At64InFlight\`) but is not
the latency target: with 64 requests always in flight, Little's law makes the mean latency 64 / throughput, so p99 <= 2 ms
at 64 in flight would need well over 32k answers/s with no tail at all, on two cores shared by the load generator, NATS
and the service. The Nest echo handler that C1 compares with, which does nothing, misses it by as much
(\`echoP99At64InFlight\`), and so does G1's bare hello route at 64 connections (\`bareP99At64Connections\`).

Beside each half-load latency, \`halfLoadWakeupDelayP99\` is the p99 of how late a separate process that does nothing
but wake every millisecond woke during the same seconds: the machine's own scheduling delay under that load. A check
wakes a process four times on its way (NATS, access, NATS again, the caller), so its p99 cannot go below that floor; on
an idle machine of this kind the probe alone sees ~1.3 ms. \`halfLoadStealPercent\` is the share of the machine's CPU
time that its hypervisor gave to other guests in those seconds (/proc/stat): a stolen slice stalls whatever ran on that
vCPU, which no code of ours can shorten.

\`halfLoadMachineBusyPercent\` is how busy the whole machine was in those seconds (/proc/stat: every process and the
kernel; not idle, not waiting for I/O, not stolen), and G1's \`halfLoadGatewayCpuUsPerRequest\` the gateway's CPU per
request at that rate, to set beside its \`cpuUsPerRequest\` at 64 connections. Half load is half the closed loop's
throughput, not half the machine: a request that arrives alone costs every process on its way more CPU than one of 64
in flight (its own system calls and wake-ups, which 64 in flight share within one event-loop turn), so at half the
throughput two vCPUs can be three quarters busy, and the tail is queueing behind whichever process is late. Measured on
a 2-vCPU AMD EPYC machine on 2026-12-01, about half as fast as that of 2026-11-30 (the bare route 13k to 21k requests/s
against 42k): the gateway's CPU per request rose from 100 to 150 us at 64 connections to 170 to 190 us at half load, the
machine was 74 to 77 % busy, and G1's half-load p99 was 33 to 270 ms over seven bench runs (each the median of three), its
quarter-load p99 14 to 125 ms; the same code met 25 ms at half load on the faster machine. That machine's kernel also ran
DAMON's page-out scheme (\`kdamond\`) every 0.5 s, 5 to 15 ms of one vCPU each time, and the slowest requests of a
fixed-rate load came in bursts 0.5 s apart; with DAMON stopped for a comparison (restarted afterwards, settings
unchanged), the p99 at 2.3k requests/s was 3.7 to 6.0 ms in four runs, against 5.0 to 10.2 ms in four runs with it.

\`halfLoadOffPathCpuMsRuns\` is, for each half-load run, the CPU (ms) that processes off the measured path spent in its
seconds: for C1 the gateway, identity, notifications and the baselines' process, for G1 identity, notifications and the
baselines' process. Idle, they spend next to nothing, but each service runs V8's memory reducer once it has idled a
while after start-up: measured on 2026-12-03 with \`--trace-gc\`, 33 to 60 s after the system started, a full collection of
~30 MiB costing 60 to 110 ms of a core in each service, the gateway's and notifications' at times within the same 100 ms.
C1's first half-load runs begin about then; a run of a probe that met them had a p99 of 80 ms against 4 to 8 ms in the
runs beside it. With access alone under load (a probe outside the bench: the same checks, rate, load process and wake-up
probe, no baseline runs between), access's p99 at 19k checks/s was 3.0 to 5.7 ms in 23 runs of four probes that hour,
the raw responder's floor in the bench 3 to 4 ms: access itself adds a millisecond or two to the floor at p99; the
bench's medians of 12 to 16 ms that hour came from what else ran in those seconds (and in a later probe, with the
hypervisor taking 1 to 6 % of the machine, 4.3 to 13.6 ms).

Each half-load run is followed by its baselines at the same rate, from the same kind of load process: for C1 the Nest
echo handler (\`echoAtHalfLoadP99\`) and a plain nats.js subscription that answers fixed bytes, with no Nest and no
parsing (\`rawResponderAtHalfLoadP99\`); for G1 the bare hello route (\`bareAtHalfLoadP99\`). C1's echo does nothing,
yet its tail at the rate access is held to (about two thirds of the echo's own throughput, as access answers faster) is
longer than access's. The raw responder is the floor of this measurement: what the machine, NATS and the load generator
(its own request bookkeeping included) cost a request at that rate with no service work at all. Where that floor is
above 2 ms, this harness on this machine cannot show C1's latency target at half load, whatever the service does;
access's tail is then judged by how close it comes to the floor (\`baselinesAtHalfLoadFailures\` counts replies the
baselines did not give). G1's bare route at the gateway's half-load rate is lightly loaded (a
quarter of its own throughput or less) and answers within a couple of milliseconds, so the gateway's tail is its own: the
work per request keeps the two cores busy enough that the processes on a request's way (gateway, NATS, access, the load
process) wait for each other's time slices. \`halfLoadGatewayEventLoopLag\` is the gateway's event-loop delay over the
same seconds (prom-client's \`nodejs_eventloop_lag_*\`, sampled every 10 ms, so it includes those 10 ms; it counts the
gateway's own long turns and pauses and its waits for a core), and \`halfLoadShareWithin25msInGateway\` the share of
requests the gateway itself answered within 25 ms, from its first middleware to the answer, which does not count the
time a request waits before the gateway reads it.

What C1 compares: the echo baseline is a plain Nest \`@MessagePattern\` handler; access answers its hot subjects
(\`access.check\`, \`access.check.batch\`, \`access.permissions.effective\`) from the NATS server directly, without Nest's
pipes, interceptors and RxJS (they keep their patterns, error payloads and in-flight accounting), which is why it
answers faster than the do-nothing handler. G1 uses one access token for all requests, as one panel user would: after
the first request its ES256 verification (~80 us) is remembered; a new token pays it once. Its route,
\`GET /v1/accounts/{id}/permissions\`, is the menu every panel page asks for: access remembers the JSON of each answer
until the account changes (at most 4096 answers, about the least recently used forgotten first; see docs/access.md), so after
the first request access looks it up instead of writing it.

G1's tail was the gateway's garbage collector (found and measured on a 2-vCPU AMD EPYC machine on 2026-11-30, with a
fixed-rate load of this kind against the gateway and \`--trace-gc-nvp\`, before and after commit 3cd36ca). Two long-lived Maps took one insert and one delete per request (the
waiting NATS requests, and the remembered tokens moved to the back on every hit); V8 reallocates such a Map's hash
table every few changes, and allocates an old Map's table directly in old space. The gateway promoted ~200 KB per
scavenge at 7.5k requests/s and ran a full mark-compact about once a second, each one stalling a few hundred requests
for 15 to 50 ms: the half-load p99 was 15 to 35 ms in about half the runs and 4 to 5 ms in the others, by how the heap
had settled. Waiting requests now sit in reused array slots and hot-path caches evict by second chance
(\`libs/platform/second-chance-map.ts\`: a hit writes a flag, not the Map); promotion fell to ~11 KB per scavenge, no
mark-compact runs after start, the p99 at 7.5k requests/s is 4 to 5 ms in every run (12 of 12), and the
gateway's CPU per G1 request in this bench fell from 63 to 48 us on that machine.

G1's baseline is a bare hello route on the gateway's own adapter: Nest's Express adapter with an HTTP server that
creates requests and responses with Express's prototypes (\`apps/gateway/src/http/stable-prototype-adapter.ts\`).
Stock Express swaps them on every request, which on Node 20 costs a new V8 object layout per request, promotes ~9 KB a
request to old space and brings mark-compact pauses; with the fix the bare route serves ~2.4x more requests and the
gateway ~1.5x more. The ratio against the stock adapter's bare route is shown beside (\`percentOfStockExpressBare\`):
the target is judged against the faster one.

What the gateway does per request (G1): one middleware gives the request its id and an RPC sender (no AsyncLocalStorage:
on Node 20 its promise hooks cost ~7 % of a request), a token verified before is taken from memory (time claims, key
and session still checked), the permission decision comes from a cache that \`access.changed\` clears, the NATS
requests of one event-loop turn leave in one socket write, and access's answer is relayed as the bytes it sent (services
write the response last in Nest's reply packet, \`libs/platform/reply-layout.ts\`), not parsed and serialized again,
and written without Express's \`send\`. A query string accepted before is not validated again
(\`QueryRememberingValidationPipe\`: ~1 us instead of ~10 us for the user table's query), nor parsed again (a query
string's parse is remembered, each request getting its own copy). The front middleware run as three Express layers
instead of eight (\`apps/gateway/src/http/one-layer.ts\`), and helmet's security headers are worked out once at start
and set from a list (\`fixed-headers.ts\`) instead of by helmet's twelve middleware per request: in 20 alternating
pairs of runs of the old and new gateway against the same services, the new one spent 7 % less CPU per G1 request
(median of the pairs; better in 14 of 20). \`cpuUsPerRequest\` says where the CPU goes per process.
`;

/**
 * Open-loop runs at one load (each with its wake-up probe), as one row: the median of each figure,
 * every run's p99 beside it (min-max), and the failures of all of them.
 */
function medianOfRuns(runs: Array<{ result: OpenLoopResult; wakeupDelays: WakeupDelays; offPathCpuMs: number }>) {
  const of = (pick: (run: { result: OpenLoopResult; wakeupDelays: WakeupDelays }) => number) => median(runs.map(pick));
  return {
    perSecond: of((run) => run.result.perSecond),
    p50: of((run) => run.result.p50),
    p99: of((run) => run.result.p99),
    p99Runs: runs.map((run) => round(run.result.p99)),
    failures: runs.reduce((sum, run) => sum + run.result.failures, 0),
    wakeupDelayP99: of((run) => run.wakeupDelays.p99),
    stealPercent: of((run) => run.wakeupDelays.stealPercent),
    machineBusyPercent: of((run) => run.wakeupDelays.busyPercent),
    offPathCpuMsRuns: runs.map((run) => run.offPathCpuMs),
  };
}

/** Starts a load generator on `target` at a given rate, for the bench's measured length after its warm-up. */
function openLoopOf(target: LoadTarget): (ratePerSecond: number) => Promise<LoadGenerator> {
  return (ratePerSecond) => LoadGenerator.start({ ...target, ratePerSecond, durationMs: SECONDS * 1000, warmUpMs: WARM_UP_MS });
}

/** One measured run of a load generator that is starting (warm-up included), stopped after. */
async function measuredOnce(starting: Promise<LoadGenerator>) {
  const generator = await starting;
  return generator.measure().finally(() => generator.stop());
}

/** Starts the baselines' process (Nest NATS echo handler and bare hello route) and waits for its route. */
function startEcho(system: TestSystem, port: number, env: Record<string, string> = {}) {
  return startProcess('dist/bench/echo.service.js', { NATS_URL: system.nats.url, ECHO_HTTP_PORT: String(port), ...env }, () =>
    fetch(`http://127.0.0.1:${port}/hello`).then(
      (r) => r.ok,
      () => false,
    ),
  );
}

/** The gateway's request-duration histogram for one route: cumulative counts by upper bound (seconds). */
async function durationBuckets(metricsUrl: string, routeSuffix: string): Promise<Map<number, number>> {
  return bucketsIn(await metricsText(metricsUrl), routeSuffix);
}

/** The gateway's Prometheus text, from its metrics port. */
async function metricsText(metricsUrl: string): Promise<string> {
  return (await fetch(metricsUrl)).text();
}

/** The gateway's event-loop delay since the previous /metrics reading (prom-client resets it on each): p99 and max, in ms. */
function eventLoopLagIn(text: string): { p99: number; max: number } {
  const read = (name: string) => round(1000 * Number(new RegExp(`^${name} (\\S+)`, 'm').exec(text)?.[1] ?? NaN));
  return { p99: read('nodejs_eventloop_lag_p99_seconds'), max: read('nodejs_eventloop_lag_max_seconds') };
}

/** The request-duration buckets of one route in a /metrics text. */
function bucketsIn(text: string, routeSuffix: string): Map<number, number> {
  const accountRoute = routeSuffix.replace(/[0-9a-f]{8}-[0-9a-f-]{27}/g, ':accountId');
  const buckets = new Map<number, number>();
  for (const line of text.split('\n')) {
    if (!line.startsWith('portico_http_request_duration_seconds_bucket') || !line.includes(`route="${accountRoute}"`)) continue;
    const bound = /le="([^"]+)"/.exec(line)?.[1];
    if (bound) buckets.set(bound === '+Inf' ? Infinity : Number(bound), Number(line.split(' ').pop()));
  }
  return buckets;
}

/** Counts between two readings of a histogram, and the share of them within a bound. */
function bucketDifference(after: Map<number, number>, before: Map<number, number>) {
  const count = (bound: number) => (after.get(bound) ?? 0) - (before.get(bound) ?? 0);
  return { within: (bound: number) => `${round((100 * count(bound)) / Math.max(1, count(Infinity)))} %` };
}

/** C3: 10k principals x 50 roles x 1k applications, decided in process. */
function decisionInProcess(): BenchResult[] {
  const catalog = loadCatalog('voximplant');
  const before = process.memoryUsage().heapUsed;
  const store = new DecisionStore(catalog);
  const accounts = 100;
  const snapshots: AccountSnapshot[] = [];
  let bindings = 0;
  for (let a = 0; a < accounts; a += 1) {
    const accountId = uuid(a, 1);
    const applications = Array.from({ length: 10 }, (_, i) => ({ id: uuid(a * 100 + i, 2), name: `app ${i}` }));
    const roles = Array.from({ length: 38 }, (_, i) => ({
      id: uuid(a * 100 + i, 3),
      name: `custom ${i}`,
      description: null,
      grants: Object.fromEntries(catalog.sections.filter((_s, j) => (i + j) % 3 === 0).map((s) => [s.key, s.actions])),
    }));
    const roleIds = [...catalog.roles.map((r) => BUILTIN_ROLE_PREFIX + r.name), ...roles.map((r) => r.id)];
    const snapshotBindings = [];
    for (let p = 0; p < 100; p += 1) {
      for (let b = 0; b < 3; b += 1) {
        const limited = (p + b) % 2 === 0;
        snapshotBindings.push({
          principalType: 'subuser',
          principalId: uuid(a * 1000 + p, 4),
          roleId: roleIds[(p * 7 + b * 13) % roleIds.length],
          applicationIds: limited ? [applications[(p + b) % 10].id] : null,
        });
      }
    }
    bindings += snapshotBindings.length;
    snapshots.push({ accountId, version: 1, ownerId: uuid(a, 5), roles, bindings: snapshotBindings, applications, inactive: [] });
  }
  for (const snapshot of snapshots) store.replaceAccount(snapshot);
  const heap = process.memoryUsage().heapUsed - before;
  const sections = catalog.sections;
  const samples: number[] = [];
  let allowed = 0;
  for (let i = 0; i < 1_000_000; i += 1) {
    const a = i % accounts;
    const section = sections[i % sections.length];
    const principal = { type: 'subuser' as const, id: uuid(a * 1000 + (i % 100), 4) };
    const applicationId = section.scope === 'application' ? uuid(a * 100 + (i % 10), 2) : undefined;
    const t0 = process.hrtime.bigint();
    if (store.decide(principal, uuid(a, 1), section.key, 'read', applicationId).allowed) allowed += 1;
    if (i % 10 === 0) samples.push(Number(process.hrtime.bigint() - t0) / 1000);
  }
  const p = percentiles(samples);
  return [
    {
      id: 'C3',
      scenario: 'in-process decision, 10k principals x 50 roles x 1k applications',
      value: round(p.p99),
      unit: 'us p99',
      target: '<= 10 us p99',
      pass: p.p99 <= 10,
      details: {
        p50: round(p.p50),
        p99: round(p.p99),
        max: round(p.max),
        allowedShare: round(allowed / 1_000_000),
        bindings,
        heapMiB: round(heap / 2 ** 20),
        heapMiBPer100kBindings: round((heap / 2 ** 20) * (100_000 / bindings)),
      },
    },
  ];
}

function memory(system: TestSystem, when: string): BenchResult[] {
  return ['gateway', 'identity', 'access', 'notifications'].map((service) => {
    const mib = rssMiB(system.pidOf(service));
    return {
      id: `R1 ${service} ${when}`,
      scenario: `resident memory of ${service}, ${when}`,
      value: mib,
      unit: 'MiB',
      target: when === 'idle' ? '<= 150 MiB' : 'reported',
      pass: when === 'idle' ? mib <= 150 : undefined,
    };
  });
}

function rssMiB(pid: number | undefined): number {
  if (!pid) return 0;
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmRSS:'));
  return Math.round(Number(line?.match(/\d+/)?.[0] ?? 0) / 1024);
}

function uuid(n: number, kind: number): string {
  return `00000000-0000-4000-8${kind}00-${n.toString(16).padStart(12, '0')}`;
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}

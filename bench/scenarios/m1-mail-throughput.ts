import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import nodemailer from 'nodemailer';
import { Events, type EventEnvelope, type UserInvitedData } from '#libs/contracts/index.js';
import { TestDatabase } from '#libs/testing/database.js';
import { distPath } from '#libs/testing/dist.js';
import { TestNatsServer } from '#libs/testing/nats-server.js';
import { say, summary, type Scenario, type ScenarioResult } from '../lib/scenario.js';
import { SmtpSink } from '../lib/smtp-sink.js';
import { profilingArgs } from '../harness.js';

const MAILS = Number(process.env.BENCH_MAILS ?? 10_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);

/** The settings measured: the defaults, and a wider pipe (more SMTP connections and mails in hand). */
const SETTINGS: Array<{ name: string; env: Record<string, string> }> = [
  { name: 'defaults (SMTP_POOL_SIZE 4, MAIL_CONCURRENCY 16)', env: {} },
  { name: 'SMTP_POOL_SIZE 16, MAIL_CONCURRENCY 64, DATABASE_POOL_SIZE 20', env: { SMTP_POOL_SIZE: '16', MAIL_CONCURRENCY: '64', DATABASE_POOL_SIZE: '20' } },
];
const ACCOUNTS = 100;
const DOMAIN = 'portico.bench';

interface Run {
  relayPerSecond: number;
  mailsPerSecond: number;
  mailsPerSecondWithStart: number;
  baselinePerSecond: number;
  unique: number;
  received: number;
  sentRows: number;
}

/** 10k activation events, spread over 100 accounts, one recipient each (as sign-ups and invitations make them). */
function events(): EventEnvelope[] {
  const accounts = Array.from({ length: ACCOUNTS }, () => randomUUID());
  return Array.from({ length: MAILS }, (_, n) => {
    const accountId = accounts[n % ACCOUNTS];
    const data: UserInvitedData = {
      accountId,
      accountName: `Account ${n % ACCOUNTS}`,
      userId: randomUUID(),
      email: `person-${n}@bench.test`,
      firstName: 'Ada',
      token: randomUUID(),
      expiresAt: new Date(Date.now() + 7 * 86_400_000).toISOString(),
      locale: n % 2 ? 'fr' : 'en',
    };
    return { id: randomUUID(), type: Events.UserInvited, occurredAt: new Date().toISOString(), accountId, data };
  });
}

async function queue(database: TestDatabase, all: EventEnvelope[]): Promise<void> {
  for (let start = 0; start < all.length; start += 1000) {
    const chunk = all.slice(start, start + 1000);
    const values = chunk.map((_, i) => `($${i * 4 + 1}, $${i * 4 + 2}, $${i * 4 + 3}, $${i * 4 + 4}, now() + make_interval(secs => ${(start + i) / 1e6}))`);
    await database.query(
      `INSERT INTO identity.outbox (id, type, account_id, payload, created_at) VALUES ${values.join(', ')}`,
      chunk.flatMap((event) => [event.id, event.type, event.accountId, JSON.stringify(event)]),
    );
  }
}

function service(name: 'identity' | 'notifications', env: Record<string, string>): ChildProcess {
  const child = spawn(process.execPath, [...profilingArgs(), distPath(`apps/${name}/src/main.js`)], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  child.stderr?.on('data', (chunk: Buffer) => process.stderr.write(`[${name}] ${chunk.toString()}`));
  return child;
}

/** Rejects when the process ends before it should. */
function exited(child: ChildProcess, name: string): Promise<never> {
  return new Promise((_, reject) => child.once('exit', (code) => reject(new Error(`${name} stopped (exit ${code})`))));
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  await new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

async function waitUntil(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The same mails straight from nodemailer (same pool size, same sink): what SMTP alone costs here. */
async function baseline(sink: SmtpSink, count: number): Promise<number> {
  sink.reset();
  const transport = nodemailer.createTransport({ pool: true, host: '127.0.0.1', port: sink.port, secure: false, maxConnections: 4, maxMessages: 1000 });
  const html = `<!doctype html><html><body><p>Hello Ada,</p><p>${'You have been given access. '.repeat(20)}</p><p><a href="http://x/activate?token=t">Set</a></p></body></html>`;
  const started = performance.now();
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const n = next++;
      await transport.sendMail({
        from: `Portico Bench <bench@${DOMAIN}>`,
        to: `person-${n}@bench.test`,
        subject: 'Portico: activate your access to Account',
        text: 'Hello Ada,\n\nYou have been given access.\n\nhttp://x/activate?token=t\n',
        html,
        messageId: `<${randomUUID()}@${DOMAIN}>`,
      });
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  const seconds = (performance.now() - started) / 1000;
  transport.close();
  return count / seconds;
}

async function oneRun(index: number, settings: Record<string, string>): Promise<Run> {
  const database = new TestDatabase();
  const nats = new TestNatsServer();
  const sink = new SmtpSink();
  await Promise.all([database.create(), nats.start(), sink.start()]);
  const env = {
    DATABASE_URL: database.url,
    NATS_URL: nats.url,
    SMTP_URL: `smtp://127.0.0.1:${sink.port}`,
    MAIL_FROM: `Portico Bench <bench@${DOMAIN}>`,
    PUBLIC_WEB_URL: 'http://panel.bench',
    HEALTH_PORT: '0',
    LOG_LEVEL: 'warn',
    // To measure other settings: MAIL_CONCURRENCY=32 SMTP_POOL_SIZE=8 npm run bench -- M1
    ...Object.fromEntries(Object.entries(process.env).filter(([name]) => /^(MAIL_|SMTP_POOL_SIZE$|DATABASE_POOL_SIZE$)/.test(name))),
    ...settings,
  };
  try {
    const all = events();
    await queue(database, all);
    say(`run ${index}: ${MAILS} activation events in identity's outbox`);

    const relayStarted = performance.now();
    const identity = service('identity', env);
    await Promise.race([
      waitUntil(async () => (await database.query<{ n: number }>('SELECT count(*)::int AS n FROM identity.outbox'))[0].n === 0, 300_000, 'the relay'),
      exited(identity, 'identity'),
    ]);
    const relayPerSecond = MAILS / ((performance.now() - relayStarted) / 1000);
    await stop(identity);
    say(`run ${index}: relayed to JetStream at ${relayPerSecond.toFixed(0)} events/s (including identity's start)`);

    const started = performance.now();
    const notifications = service('notifications', env);
    const crashed = exited(notifications, 'notifications');
    await Promise.race([sink.waitFor(1), crashed]);
    const firstMail = performance.now();
    await Promise.race([sink.waitFor(MAILS), crashed]);
    const done = performance.now();
    crashed.catch(() => undefined);
    // Anything sent twice would arrive now.
    await waitUntil(
      async () => (await database.query<{ n: number }>(`SELECT count(*)::int AS n FROM notifications.deliveries WHERE status <> 'sent'`))[0].n === 0,
      30_000,
      'the last rows',
    );
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await stop(notifications);

    const expected = new Set(all.map((event) => `<${event.id}@${DOMAIN}>`));
    const unique = new Set(sink.messageIds);
    const sentRows = (await database.query<{ n: number }>(`SELECT count(*)::int AS n FROM notifications.deliveries WHERE status = 'sent'`))[0].n;
    const run: Run = {
      relayPerSecond,
      mailsPerSecond: (MAILS - 1) / ((done - firstMail) / 1000),
      mailsPerSecondWithStart: MAILS / ((done - started) / 1000),
      baselinePerSecond: await baseline(sink, MAILS),
      unique: [...unique].filter((id) => expected.has(id)).length,
      received: sink.messageIds.length,
      sentRows,
    };
    if (run.unique !== MAILS || sentRows !== MAILS) throw new Error(`not exactly once: ${JSON.stringify(run)}`);
    say(
      `run ${index}: ${run.mailsPerSecond.toFixed(0)} mails/s (${run.mailsPerSecondWithStart.toFixed(0)} with the service's start), baseline ${run.baselinePerSecond.toFixed(0)}; ${run.unique} unique of ${MAILS}`,
    );
    return run;
  } finally {
    await Promise.allSettled([nats.destroy(), sink.stop()]);
    await database.drop().catch(() => undefined);
  }
}

function row(label: string, runs: Run[]): string {
  const fmt = (values: number[], digits = 0) => {
    const s = summary(values);
    return `${s.median.toFixed(digits)} (${s.min.toFixed(digits)}-${s.max.toFixed(digits)})`;
  };
  return [
    `| ${label}`,
    `**${fmt(runs.map((run) => run.mailsPerSecond))}**`,
    fmt(runs.map((run) => run.mailsPerSecondWithStart)),
    fmt(runs.map((run) => run.baselinePerSecond)),
    fmt(
      runs.map((run) => run.mailsPerSecond / run.baselinePerSecond),
      2,
    ),
    fmt(runs.map((run) => run.relayPerSecond)),
    `${runs.map((run) => `${run.received}/${run.unique}/${run.sentRows}`).join(', ')} |`,
  ].join(' | ');
}

export const scenario: Scenario = {
  id: 'M1',
  title: 'mail throughput, 10k activation mails queued',
  async run(): Promise<ScenarioResult> {
    const measured: Array<{ name: string; runs: Run[] }> = [];
    for (const settings of SETTINGS) {
      say(`settings: ${settings.name}`);
      const runs: Run[] = [];
      for (let index = 1; index <= RUNS; index += 1) runs.push(await oneRun(index, settings.env));
      measured.push({ name: settings.name, runs });
    }
    const markdown = [
      `${MAILS} \`identity.user.invited\` events (100 accounts, one recipient each, half English, half French) are written into`,
      "identity's outbox of a fresh database; identity's relay moves them to JetStream; then the notifications service starts",
      'and sends them (rate limits on, at their defaults) to a local SMTP server that keeps only Message-IDs. Exactly once is',
      'checked on every run: as many mails as events, one per event (by Message-ID), every delivery row `sent`. The',
      'baseline is nodemailer alone sending as many ready-made mails to the same server (4 pooled connections, 16 at once), in',
      `the same run. Median of ${RUNS} runs (min-max); mails per second are counted from the first mail to the last.`,
      '',
      '| settings | mails/s | mails/s incl. service start | baseline mails/s | ratio | relay events/s | received/unique/sent per run |',
      '| --- | --- | --- | --- | --- | --- | --- |',
      ...measured.map(({ name, runs }) => row(name, runs)),
    ].join('\n');
    const first = summary(measured[0].runs.map((run) => run.mailsPerSecond));
    return {
      id: 'M1',
      title: 'mail throughput, 10k activation mails queued',
      metrics: measured.map(({ name, runs }) => {
        const s = summary(runs.map((run) => run.mailsPerSecond));
        return { name: `mails per second, ${name}`, value: Math.round(s.median), unit: 'mails/s', min: Math.round(s.min), max: Math.round(s.max) };
      }),
      markdown,
      details: { mails: MAILS, median: first.median, measured },
    };
  },
};

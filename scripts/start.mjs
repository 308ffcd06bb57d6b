// `npm start`: the whole system on this machine. Installs what is missing, uses PostgreSQL and
// NATS where they answer (else starts project-local ones), migrates, runs the four services and
// a mail catcher, prints the URLs; Ctrl-C stops everything it started.
import { execFileSync, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { build, ensureDependencies, ensureNats, ensurePostgres, mayMoveNats, mayMovePostgres, redacted, ROOT, say } from './infra.mjs';

const env = {
  DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/portico',
  NATS_URL: 'nats://127.0.0.1:4222',
  GATEWAY_PORT: '3000',
  METRICS_PORT: '9464',
  PUBLIC_WEB_URL: 'http://localhost:5173',
  CORS_ORIGINS: 'http://localhost:5173',
  ...process.env,
};
const catcherPorts = { smtp: Number(process.env.MAIL_CATCHER_SMTP_PORT ?? 1025), web: Number(process.env.MAIL_CATCHER_WEB_PORT ?? 8025) };
const useCatcher = !process.env.SMTP_URL;
if (useCatcher) env.SMTP_URL = `smtp://127.0.0.1:${catcherPorts.smtp}`;

const stops = [];
const children = new Map();
let shuttingDown = false;
/** Set when a service or the mail catcher exits before the system is ready. */
let exitedEarly;

async function main() {
  await requireFreePorts();
  ensureDependencies();
  build();
  const onStarted = (stop) => stops.push(stop);
  env.DATABASE_URL = await ensurePostgres(env.DATABASE_URL, { mayMove: mayMovePostgres(process.env.DATABASE_URL), onStarted });
  const nats = await ensureNats(env.NATS_URL, { mayMove: mayMoveNats(process.env.NATS_URL), onStarted });
  env.NATS_URL = nats.url;
  // The project-local nats-server's user (a credentials file set for another server does not go with it).
  if (nats.user) Object.assign(env, { NATS_USER: nats.user, NATS_PASSWORD: nats.password, NATS_CREDS_FILE: '-' });
  await createDatabaseIfMissing(env.DATABASE_URL);
  say('applying migrations');
  execFileSync(process.execPath, ['dist/tools/migrate.js'], { cwd: ROOT, env, stdio: 'inherit' });
  if (useCatcher)
    run('mail', 'dist/tools/mail-catcher.js', { MAIL_CATCHER_SMTP_PORT: String(catcherPorts.smtp), MAIL_CATCHER_WEB_PORT: String(catcherPorts.web) });
  const probes = probePorts();
  for (const service of ['identity', 'access', 'notifications']) run(service, `dist/apps/${service}/src/main.js`, { HEALTH_PORT: String(probes[service]) });
  run('gateway', 'dist/apps/gateway/src/main.js');
  const ready = await waitUntilReady(`http://127.0.0.1:${env.GATEWAY_PORT}/health/system`);
  if (exitedEarly) throw new Error(`${exitedEarly} exited during start-up; see its lines above`);
  if (!ready) throw new Error(`the system is not ready after 60 s (http://127.0.0.1:${env.GATEWAY_PORT}/health/system)`);
  banner();
}

/** Where identity, access and notifications serve their metrics (their probe ports). */
function serviceMetricsUrls() {
  const urls = portsToListenOn()
    .filter(([what]) => what.endsWith(' probes'))
    .map(([what, port]) => `${what.replace(' probes', '')} http://localhost:${port}/metrics`);
  return urls.length > 0 ? urls.join(', ') : "the services' metrics are off (HEALTH_PORT=0)";
}

/**
 * The probe (and metrics) port of identity, access and notifications: 3001, 3002 and 3003, or, with
 * HEALTH_PORT set, that port and the two after it (0: none). One HEALTH_PORT for the three would
 * have two of them fail to listen. Empty counts as unset, as the services read it.
 */
function probePorts() {
  const defaults = { identity: 3001, access: 3002, notifications: 3003 };
  const first = process.env.HEALTH_PORT;
  if (first === undefined || first.trim() === '') return defaults;
  return Object.fromEntries(Object.keys(defaults).map((service, index) => [service, Number(first) === 0 ? 0 : Number(first) + index]));
}

/** The ports the services and the mail catcher listen on (0: off). */
function portsToListenOn() {
  const ports = { gateway: env.GATEWAY_PORT, metrics: env.METRICS_PORT };
  for (const [service, port] of Object.entries(probePorts())) ports[`${service} probes`] = String(port);
  if (useCatcher) Object.assign(ports, { 'mail catcher SMTP': catcherPorts.smtp, 'mail catcher web': catcherPorts.web });
  return Object.entries(ports).filter(([, port]) => Number(port) !== 0);
}

/** Stops before anything is built or started when a port is taken (another npm start, for one). */
async function requireFreePorts() {
  for (const [what, port] of portsToListenOn()) {
    if (!(await isFree(Number(port))))
      throw new Error(`port ${port} (${what}) is in use: is Portico already running? Stop it, or set the port's variable (see README).`);
  }
}

function isFree(port) {
  return new Promise((done) => {
    const server = createServer();
    server.once('error', () => done(false));
    server.listen(port, () => server.close(() => done(true)));
  });
}

async function createDatabaseIfMissing(databaseUrl) {
  const { default: pg } = await import('pg');
  const url = new URL(databaseUrl);
  const name = decodeURIComponent(url.pathname.slice(1));
  const client = await maintenanceConnection(pg, url);
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (rowCount === 0) {
      say(`creating database ${name}`);
      await client.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"${await unicodeLocaleIfServerHasNone(client)}`);
    }
  } finally {
    await client.end();
  }
}

/** A connection to the server of `url` to create databases from: its `postgres` database, or `template1` on a server that has none. */
async function maintenanceConnection(pg, url) {
  for (const database of ['postgres', 'template1']) {
    url.pathname = `/${database}`;
    const client = new pg.Client({ connectionString: url.toString() });
    try {
      await client.connect();
      return client;
    } catch (error) {
      await client.end().catch(() => undefined);
      // 3D000: no such database.
      if (error.code !== '3D000' || database === 'template1') throw error;
    }
  }
}

/**
 * A UTF-8 LC_CTYPE for the new database when the server's default folds ASCII only (C, POSIX: a
 * cluster made with an empty environment), as deploy.md 2.2 asks of every installation: identity's
 * e-mail uniqueness and search rest on PostgreSQL's lower().
 */
async function unicodeLocaleIfServerHasNone(client) {
  const { rows } = await client.query(`SELECT datctype AS ctype FROM pg_database WHERE datname = 'template1'`);
  return ['C', 'POSIX'].includes(rows[0]?.ctype ?? '') ? ` TEMPLATE template0 ENCODING 'UTF8' LC_CTYPE 'C.UTF-8' LC_COLLATE 'C.UTF-8'` : '';
}

const COLORS = { identity: 33, access: 35, notifications: 34, gateway: 32, mail: 36 };

function run(name, script, extra = {}) {
  const child = spawn(process.execPath, [script], { cwd: ROOT, env: { ...env, ...extra }, stdio: ['ignore', 'pipe', 'pipe'] });
  const prefix = `\x1b[${COLORS[name] ?? 37}m${name.padEnd(13)}\x1b[0m| `;
  const forward = (stream) => (chunk) =>
    stream.write(
      chunk
        .toString()
        .split('\n')
        .filter(Boolean)
        .map((line) => prefix + line + '\n')
        .join(''),
    );
  child.stdout.on('data', forward(process.stdout));
  child.stderr.on('data', forward(process.stderr));
  child.on('exit', (code, signal) => {
    children.delete(name);
    if (shuttingDown) return;
    exitedEarly ??= name;
    process.stderr.write(
      `\n\x1b[41;97m !!! ${name} CRASHED (exit ${code ?? signal}) — the system is degraded; see its lines above. Restart with npm start. \x1b[0m\n\n`,
    );
  });
  children.set(name, child);
}

/** Resolves true once `url` answers OK, false after 60 s or when a child exited meanwhile. */
async function waitUntilReady(url) {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (shuttingDown || exitedEarly) return false;
    const ok = await fetch(url).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return true;
    await new Promise((r) => setTimeout(r, 300));
  }
  return false;
}

function banner() {
  const base = `http://localhost:${env.GATEWAY_PORT}`;
  const lines = [
    'Portico is running.',
    `  API          ${base}`,
    `  API docs     ${base}/docs   (OpenAPI: ${base}/openapi.json)`,
    `  Readiness    ${base}/health/system   (the gateway's own, for load balancers: ${base}/health/ready)`,
    `  Metrics      ${env.METRICS_PORT === '0' ? "the gateway's are off (METRICS_PORT=0)" : `http://localhost:${env.METRICS_PORT}/metrics   (the gateway's)`}`,
    `               ${serviceMetricsUrls()}`,
    useCatcher
      ? `  Mail         http://localhost:${catcherPorts.web}/   (SMTP catcher on port ${catcherPorts.smtp})`
      : `  Mail         sent to ${redacted(env.SMTP_URL)}`,
    'Press Ctrl-C to stop everything.',
  ];
  process.stdout.write(`\n\x1b[1m${lines.join('\n')}\x1b[0m\n\n`);
}

async function shutdown(exitCode = 0) {
  if (shuttingDown) return;
  shuttingDown = true;
  say('stopping');
  await Promise.all(
    [...children.values()].map(
      (child) =>
        new Promise((resolve) => {
          child.once('exit', resolve);
          child.kill('SIGTERM');
          setTimeout(() => child.kill('SIGKILL'), 15_000).unref();
        }),
    ),
  );
  for (const stop of stops.reverse()) await stop();
  process.exit(exitCode);
}

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => shutdown(0));
main().catch(async (error) => {
  process.stderr.write(`\x1b[31m[portico] ${error.message}\x1b[0m\n`);
  await shutdown(1);
});

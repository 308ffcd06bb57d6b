// Makes PostgreSQL and NATS available for `npm start` and `npm test` on a fresh machine:
// uses what already answers, installs Debian's packages when missing (as root), and otherwise
// starts project-local instances with their data under .local/ (ignored by git; PostgreSQL as root: /var/lib/portico-postgres-*).
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chownSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { userInfo } from 'node:os';

export const ROOT = resolve(new URL('..', import.meta.url).pathname);
export const LOCAL = join(ROOT, '.local');

/** Prints a step of the set-up. */
export function say(message) {
  process.stdout.write(`\x1b[36m[portico]\x1b[0m ${message}\n`);
}

/** Resolves true when something accepts TCP connections at host:port within `ms`. */
export function answers(host, port, ms = 1000) {
  return new Promise((done) => {
    const socket = connect({ host, port });
    const timer = setTimeout(() => (socket.destroy(), done(false)), ms);
    socket.once('connect', () => (clearTimeout(timer), socket.destroy(), done(true)));
    socket.once('error', () => (clearTimeout(timer), done(false)));
  });
}

async function waitFor(host, port, what, ms = 30_000) {
  const deadline = Date.now() + ms;
  while (!(await answers(host, port))) {
    if (Date.now() > deadline) throw new Error(`${what} did not start listening on ${host}:${port}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

function isRoot() {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

let aptUpdated = false;
/** Installs Debian packages (root only); otherwise explains what to install and stops. */
export function aptInstall(packages) {
  if (!isRoot()) {
    throw new Error(`Missing ${packages.join(', ')}. Install them (sudo apt-get install ${packages.join(' ')}) or point the URLs at running servers.`);
  }
  say(`installing ${packages.join(', ')} from Debian's packages`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  // Waits for another apt or dpkg (unattended-upgrades on a fresh machine) instead of failing at once.
  const apt = (args) => spawnSync('apt-get', ['-o', 'DPkg::Lock::Timeout=300', ...args], { stdio: 'inherit', env });
  if (!aptUpdated) {
    const update = apt(['update', '-qq']);
    if (update.status !== 0) say(`warning: apt-get update failed${failure(update)}; installing from the lists there are`);
    aptUpdated = true;
  }
  withoutServiceStarts(() => {
    const install = apt(['install', '-y', '-qq', '--no-install-recommends', ...packages]);
    if (install.status !== 0) throw new Error(`apt-get install ${packages.join(' ')} failed${failure(install)}`);
  });
}

const POLICY_RC_D = '/usr/sbin/policy-rc.d';

/**
 * Runs `action` with a policy-rc.d that forbids starting services, so that the packages installed do
 * not start Debian's own PostgreSQL (password auth) or nats-server (no JetStream) on the default ports:
 * the project-local instances take those. An existing policy-rc.d is left as it is.
 */
function withoutServiceStarts(action) {
  if (existsSync(POLICY_RC_D)) return action();
  writeFileSync(POLICY_RC_D, "#!/bin/sh\n# Written by Portico's scripts/infra.mjs while it runs apt-get install.\nexit 101\n", { mode: 0o755 });
  try {
    return action();
  } finally {
    rmSync(POLICY_RC_D, { force: true });
  }
}

/** The bin folder of PostgreSQL `version` when given and installed, else of the newest installed. */
function findPostgresBin(version) {
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return undefined;
  const versions = readdirSync(base)
    .filter((v) => existsSync(join(base, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  const chosen = versions.includes(version) ? version : versions[0];
  return chosen ? join(base, chosen, 'bin') : undefined;
}

/** The PostgreSQL version that made the cluster in `dataDir`, if there is one. */
function clusterVersion(dataDir) {
  const file = join(dataDir, 'PG_VERSION');
  return existsSync(file) ? readFileSync(file, 'utf8').trim() : undefined;
}

/**
 * Where the project-local cluster lives: .local/postgres, or, as root (PostgreSQL runs as the
 * `postgres` user, who may not reach into the clone, e.g. under /root), a folder of its own in
 * /var/lib named after the clone's path (not /var/tmp, whose old files systemd may clean away; a
 * cluster already in .local/postgres is still used).
 */
function postgresDataDir() {
  const inClone = join(LOCAL, 'postgres');
  if (!isRoot() || existsSync(join(inClone, 'PG_VERSION'))) return inClone;
  const key = createHash('sha256').update(ROOT).digest('hex').slice(0, 12);
  return join('/var/lib', `portico-postgres-${key}`);
}

/** nats-server from NATS_SERVER_BIN, PATH or /usr/sbin, installed when missing. */
export function ensureNatsBinary() {
  const find = () =>
    [
      process.env.NATS_SERVER_BIN,
      ...(process.env.PATH ?? '').split(':').map((d) => join(d, 'nats-server')),
      '/usr/sbin/nats-server',
      '/usr/bin/nats-server',
    ].find((p) => p && existsSync(p));
  let bin = find();
  if (!bin) {
    aptInstall(['nats-server']);
    bin = find();
  }
  if (!bin) throw new Error('nats-server could not be installed');
  return bin;
}

/** Why a spawned tool failed, for messages: the spawn's own error (not found, ...) or its exit. */
function failure(result) {
  return result.error ? ` (${result.error.message})` : ` (exit ${result.status ?? result.signal})`;
}

/** Runs a PostgreSQL tool as the `postgres` system user when we are root (PostgreSQL refuses to run as root). */
function runPg(bin, args, options = {}) {
  if (isRoot()) return spawnSync('runuser', ['-u', 'postgres', '--', bin, ...args], { stdio: 'inherit', ...options });
  return spawnSync(bin, args, { stdio: 'inherit', ...options });
}

/**
 * Makes sure a PostgreSQL that we can log in to answers at `databaseUrl`, and returns the URL to use:
 * `databaseUrl`, or, when `mayMove` (the URL is the default one) and the server there wants a password,
 * that of a project-local cluster on a free port. `onStarted` is given, as soon as a server is started,
 * the function that stops it.
 */
export async function ensurePostgres(databaseUrl, { mayMove = false, onStarted = () => {} } = {}) {
  const url = new URL(databaseUrl);
  const host = url.hostname || '127.0.0.1';
  const port = Number(url.port || 5432);
  if (await answers(host, port)) return useRunningPostgres(url, { mayMove, onStarted });
  if (!isLocalHost(host)) throw new Error(`PostgreSQL does not answer at ${host}:${port}`);
  if (!findPostgresBin()) {
    aptInstall(['postgresql']);
    if (await answers(host, port)) return useRunningPostgres(url, { mayMove, onStarted });
  }
  await startLocalPostgres(host, port, onStarted);
  return url.toString();
}

function isLocalHost(host) {
  return ['127.0.0.1', 'localhost', '::1', '[::1]'].includes(host);
}

/** The URL to use when something answers at `url`'s port: `url` if we can log in there. */
async function useRunningPostgres(url, { mayMove, onStarted }) {
  const refusal = await loginRefusal(url);
  if (!refusal) return url.toString();
  if (!mayMove) {
    throw new Error(
      `PostgreSQL at ${url.host} refused the login (${refusal}). Set DATABASE_URL (npm test: TEST_DATABASE_URL) to a URL with a user and password it accepts, or set PGPASSWORD.`,
    );
  }
  say(`PostgreSQL at ${url.host} wants a password (${refusal}); using a project-local cluster instead`);
  const local = new URL(url);
  local.hostname = '127.0.0.1';
  local.port = String(await startLocalPostgres('127.0.0.1', undefined, onStarted));
  return local.toString();
}

const AUTHENTICATION_FAILED = /^28/; // SQLSTATE class 28: invalid authorization specification

/** Why PostgreSQL at `url` refuses our login (wrong or missing password, unknown role), or undefined when it lets us in. */
async function loginRefusal(url) {
  const { default: pg } = await import('pg');
  const server = new URL(url);
  server.pathname = '/postgres'; // the database at `url` may not exist yet
  const client = new pg.Client({ connectionString: server.toString(), connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
    return undefined;
  } catch (error) {
    if (AUTHENTICATION_FAILED.test(error.code ?? '') || /password/i.test(error.message)) return error.message;
    if (error.code === '3D000') return undefined; // no database "postgres", but we are in
    throw new Error(`PostgreSQL at ${url.host} answers but cannot be used: ${error.message}`);
  } finally {
    await client.end().catch(() => {});
  }
}

/** Starts the project-local cluster (made first if missing) on `port` (a free one when undefined); returns the port. */
async function startLocalPostgres(host, port, onStarted) {
  const dataDir = postgresDataDir();
  const bin = findPostgresBin(clusterVersion(dataDir));
  if (!bin) throw new Error('PostgreSQL could not be installed');
  if (!existsSync(join(dataDir, 'PG_VERSION'))) initCluster(bin, dataDir);
  port ??= await freePort();
  say(`starting project-local PostgreSQL on ${host}:${port}`);
  const logFile = join(dataDir, 'server.log');
  const options = `-p ${port} -c listen_addresses=${host === 'localhost' ? '127.0.0.1' : host} -c unix_socket_directories=/tmp`;
  const stop = async () => {
    say('stopping project-local PostgreSQL');
    runPg(join(bin, 'pg_ctl'), ['-D', dataDir, '-m', 'fast', '-w', 'stop'], { stdio: 'ignore' });
  };
  const started = runPg(join(bin, 'pg_ctl'), ['-D', dataDir, '-l', logFile, '-o', options, '-w', 'start']);
  // Registered only once it is ours: a start that failed (the cluster already running for another run) stops nothing.
  if (started.status !== 0) throw new Error(`PostgreSQL did not start${failure(started)}; see ${logFile}`);
  onStarted(stop);
  await waitFor(host, port, 'PostgreSQL');
  return port;
}

/** Makes the cluster, with the locale C.UTF-8 (always there on Debian; not the environment's, which may be C or missing). */
function initCluster(bin, dataDir) {
  say(`creating a project-local PostgreSQL cluster in ${dataDir}`);
  mkdirSync(dataDir, { recursive: true });
  if (isRoot()) chownAll(dataDir, 'postgres');
  const result = runPg(join(bin, 'initdb'), ['-D', dataDir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C.UTF-8', '--no-instructions']);
  if (result.status !== 0) throw new Error(`initdb failed${failure(result)}`);
}

/** A TCP port that nothing listens on now. */
export function freePort() {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => done(port));
    });
  });
}

function chownAll(path, user) {
  const uid = Number(execFileSync('id', ['-u', user]).toString().trim());
  const gid = Number(execFileSync('id', ['-g', user]).toString().trim());
  chownSync(path, uid, gid);
  // The project folder must be traversable by that user.
  for (let dir = resolve(path, '..'); dir !== '/'; dir = resolve(dir, '..')) {
    if ((statSync(dir).mode & 0o001) === 0) say(`warning: ${dir} is not traversable by ${user}`);
  }
}

/**
 * Makes sure NATS with JetStream answers at `natsUrl`, and returns the URL to use: `natsUrl`, or, when
 * `mayMove` (the URL is the default one) and the server there has no JetStream (Debian's nats-server
 * service), that of a project-local `nats-server -js` on a free port. `onStarted` is given, as soon as a
 * server is started, the function that stops it.
 */
export async function ensureNats(natsUrl, { mayMove = false, onStarted = () => {} } = {}) {
  const url = new URL(natsUrl.split(',')[0]);
  const host = url.hostname || '127.0.0.1';
  const port = Number(url.port || 4222);
  if (await answers(host, port)) return useRunningNats(natsUrl, { mayMove, onStarted });
  if (!isLocalHost(host)) throw new Error(`NATS does not answer at ${host}:${port}`);
  ensureNatsBinary();
  if (await answers(host, port)) return useRunningNats(natsUrl, { mayMove, onStarted });
  await startLocalNats(host, port, onStarted);
  return natsUrl;
}

/** The URL to use when something answers at `natsUrl`: `natsUrl` if it has JetStream. */
async function useRunningNats(natsUrl, { mayMove, onStarted }) {
  const missing = await jetStreamMissing(natsUrl);
  if (!missing) return natsUrl;
  if (!mayMove) throw new Error(`NATS at ${natsUrl} cannot be used (${missing}). Set NATS_URL to a NATS server with JetStream enabled (nats-server -js).`);
  say(`NATS at ${natsUrl} has no JetStream (${missing}); using a project-local nats-server instead`);
  const port = await freePort();
  await startLocalNats('127.0.0.1', port, onStarted);
  return `nats://127.0.0.1:${port}`;
}

/** Why NATS at `natsUrl` cannot serve JetStream, or undefined when it can. */
async function jetStreamMissing(natsUrl) {
  const { connect: connectNats } = await import('@nats-io/transport-node');
  const { jetstreamManager } = await import('@nats-io/jetstream');
  let nc;
  try {
    nc = await connectNats({ servers: natsUrl.split(','), timeout: 5000, maxReconnectAttempts: 0 });
    await jetstreamManager(nc, { timeout: 5000 }); // asks $JS.API.INFO; fails without JetStream
    return undefined;
  } catch (error) {
    return error.message;
  } finally {
    await nc?.close().catch(() => {});
  }
}

async function startLocalNats(host, port, onStarted) {
  const bin = ensureNatsBinary();
  const storeDir = join(LOCAL, 'nats');
  mkdirSync(storeDir, { recursive: true });
  say(`starting project-local NATS with JetStream on ${host}:${port}`);
  const log = openSync(join(LOCAL, 'nats.log'), 'a');
  const child = spawn(bin, ['-a', host === 'localhost' ? '127.0.0.1' : host, '-p', String(port), '-js', '-sd', storeDir], {
    stdio: ['ignore', log, log],
    detached: true,
  });
  child.unref();
  onStarted(async () => {
    say('stopping project-local NATS');
    try {
      process.kill(child.pid, 'SIGTERM');
    } catch {
      /* already gone */
    }
  });
  await waitFor(host, port, 'NATS');
}

/** Installs the npm dependencies when node_modules is missing or older than the lock file. */
export function ensureDependencies() {
  const modules = join(ROOT, 'node_modules', '.package-lock.json');
  const lock = join(ROOT, 'package-lock.json');
  if (existsSync(modules) && statSync(modules).mtimeMs >= statSync(lock).mtimeMs) return;
  // `npm install --no-save` installs exactly the lock file; `npm ci` would refuse it because npm
  // leaves other platforms' optional binaries (swc, argon2) out of the lock.
  say('installing npm dependencies');
  // --include=dev: the build (swc) and the tests need them even under NODE_ENV=production.
  execFileSync('npm', ['install', '--no-save', '--include=dev', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: ROOT, stdio: 'inherit' });
}

/** Compiles TypeScript to dist/ (swc: about a second). */
export function build() {
  say('building');
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: 'inherit' });
}

/** Whoever runs this, for messages. */
export function whoami() {
  return userInfo().username;
}

// Makes PostgreSQL and NATS available for `npm start` and `npm test` on a fresh machine:
// uses what already answers, installs Debian's packages when missing (as root), and otherwise
// starts project-local instances with their data under .local/ (ignored by git; PostgreSQL as root: /var/lib/portico-postgres-*).
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { connect, createServer } from 'node:net';
import { basename, dirname, join, resolve } from 'node:path';
import { tmpdir, userInfo } from 'node:os';

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

/**
 * Waits until something listens at host:port. Stops with the error `failed()` returns as soon as it returns
 * one (the server exited, say), or after `ms` with one naming `hint` (where its log is).
 */
async function waitFor(host, port, what, { ms = 30_000, hint, failed = () => undefined } = {}) {
  const deadline = Date.now() + ms;
  while (!(await answers(host, port))) {
    const error = failed();
    if (error) throw error;
    if (Date.now() > deadline) throw new Error(`${what} did not start listening on ${host}:${port}${hint ? `; ${hint}` : ''}`);
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
    if (!aptUpdate(env)) say('warning: apt-get update failed; installing from the lists there are');
    aptUpdated = true;
  }
  withoutServiceStarts(() => {
    const install = apt(['install', '-y', '-qq', '--no-install-recommends', ...packages]);
    if (install.status !== 0) throw new Error(`apt-get install ${packages.join(' ')} failed${failure(install)}`);
  });
}

/** How long `apt-get update` waits for another apt holding its lists (apt-daily, cloud-init on a fresh machine). */
const APT_LISTS_WAIT_MS = 300_000;

/**
 * `apt-get update`, again every 5 s while another apt holds the lists' lock (DPkg::Lock::Timeout
 * waits for dpkg's lock, not for that one: it failed at once), for up to 5 minutes. Whether it worked.
 * @param {NodeJS.ProcessEnv} env
 */
export function aptUpdate(env, waitMs = APT_LISTS_WAIT_MS) {
  const deadline = Date.now() + waitMs;
  for (let told = false; ; told = true) {
    // In English whatever the machine's language: the lock is recognised by apt's words.
    const update = spawnSync('apt-get', ['-o', 'DPkg::Lock::Timeout=300', 'update', '-qq'], {
      env: { ...env, LC_ALL: 'C' },
      stdio: ['ignore', 'inherit', 'pipe'],
      encoding: 'utf8',
    });
    if (update.status === 0) {
      process.stderr.write(update.stderr ?? '');
      return true;
    }
    const locked = /Could not get lock|Unable to lock/.test(update.stderr ?? '');
    if (!locked || Date.now() >= deadline) {
      process.stderr.write(update.stderr ?? '');
      return false;
    }
    if (!told) say('another apt holds its package lists (apt-daily or cloud-init, on a fresh machine): waiting for it');
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5000);
  }
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

/**
 * The bin folder of PostgreSQL `version` when given and installed, else of the newest installed (Debian's layout).
 * @param {string} [version]
 * @returns {string | undefined}
 */
export function findPostgresBin(version) {
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return undefined;
  const versions = readdirSync(base)
    .filter((v) => existsSync(join(base, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  const chosen = versions.includes(version) ? version : versions[0];
  return chosen ? join(base, chosen, 'bin') : undefined;
}

/** Whether `dataDir` holds a PostgreSQL cluster (made whole: see initCluster). */
function isCluster(dataDir) {
  return existsSync(join(dataDir, 'PG_VERSION'));
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
  if (!isRoot() || isCluster(inClone)) return inClone;
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
 * Makes sure a PostgreSQL that we can log in to answers at `databaseUrl`, and returns the URL to use.
 * When `mayMove` (the URL is the default one): `databaseUrl` when a server there lets us in, else that of
 * the project-local cluster in `dataDir` (the one still running, from an earlier run killed before it
 * could stop it, say; else started now on the URL's port when nothing answers there, on a free port when
 * the server there wants a password). A URL that was set (`urlName` in messages) is used as it is: when
 * nothing answers there, the Debian cluster set to its port is started, and without one it stops with a
 * message (an empty project-local cluster is never made up in its place). `onStarted` is given, as soon
 * as a server is started, the function that stops it. `postgresBin`: PostgreSQL's bin folder, else the
 * installed one's.
 * @param {string} databaseUrl
 * @param {{ mayMove?: boolean, urlName?: string, onStarted?: (stop: () => Promise<void>) => void, dataDir?: string, postgresBin?: string }} [options]
 * @returns {Promise<string>}
 */
export async function ensurePostgres(
  databaseUrl,
  { mayMove = false, urlName = 'DATABASE_URL', onStarted = () => {}, dataDir = postgresDataDir(), postgresBin } = {},
) {
  const url = new URL(databaseUrl);
  const host = url.hostname || '127.0.0.1';
  const port = Number(url.port || 5432);
  const options = { mayMove, urlName, onStarted, dataDir, postgresBin };
  if (await answers(host, port)) return useRunningPostgres(url, options);
  if (!mayMove) {
    await startDebianCluster(url, host, port, options);
    return useRunningPostgres(url, options);
  }
  return useLocalPostgres(url, port, options);
}

/**
 * Whether a database URL that was set is only the default spelt out (this machine, port 5432, user
 * `postgres` without a password, whatever the database): it may move as the default does (a fresh
 * machine gets PostgreSQL installed and a project-local cluster), where another URL names a server of
 * its own. Unset: true.
 * @param {string | undefined} databaseUrl
 */
export function mayMovePostgres(databaseUrl) {
  if (!databaseUrl) return true;
  const url = new URL(databaseUrl);
  return isLocalHost(url.hostname || '127.0.0.1') && Number(url.port || 5432) === 5432 && ['', 'postgres'].includes(url.username) && !url.password;
}

function isLocalHost(host) {
  return ['127.0.0.1', 'localhost', '::1', '[::1]'].includes(host);
}

/** `url` for messages: its password, if any, hidden. */
export function redacted(url) {
  const shown = new URL(url);
  if (shown.password) shown.password = '***';
  return shown.toString();
}

/** The URL to use when something answers at `url`'s port: `url` if we can log in there. */
async function useRunningPostgres(url, options) {
  const refusal = await loginRefusal(url);
  if (!refusal) return url.toString();
  if (!options.mayMove) {
    throw new Error(
      `PostgreSQL at ${url.host} refused the login (${refusal}). Set DATABASE_URL (npm test: TEST_DATABASE_URL) to a URL with a user and password it accepts, or set PGPASSWORD.`,
    );
  }
  say(`PostgreSQL at ${url.host} wants a password (${refusal}); using a project-local cluster instead`);
  return useLocalPostgres(url, undefined, options);
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

/**
 * Starts the Debian cluster (pg_lsclusters) set to `port`, at which nothing answers. The URL was set, so
 * it names a server of this machine's own: without such a cluster this stops with a message naming the URL.
 */
async function startDebianCluster(url, host, port, { urlName, onStarted }) {
  const nothing = `Nothing answers at ${urlName} ${redacted(url)}`;
  if (!isLocalHost(host)) throw new Error(`${nothing}.`);
  const cluster = debianClusters().find((c) => c.port === port);
  if (!cluster) {
    throw new Error(
      `${nothing}, and no PostgreSQL cluster of this machine is set to port ${port} (pg_lsclusters). Start the server it names, or unset ${urlName} to have a project-local PostgreSQL used.`,
    );
  }
  const name = `${cluster.version}/${cluster.name}`;
  if (!cluster.status.startsWith('down')) {
    throw new Error(
      `${nothing}, though PostgreSQL cluster ${name}, set to port ${port}, is ${cluster.status}: check its listen_addresses and its log (${cluster.log}).`,
    );
  }
  say(`starting PostgreSQL cluster ${name} (port ${port}) for ${urlName}`);
  const started = spawnSync('pg_ctlcluster', [cluster.version, cluster.name, 'start'], { stdio: 'inherit', env: process.env });
  if (started.status !== 0)
    throw new Error(`${nothing}, and pg_ctlcluster ${cluster.version} ${cluster.name} start failed${failure(started)}; see ${cluster.log}`);
  onStarted(async () => {
    say(`stopping PostgreSQL cluster ${name}`);
    spawnSync('pg_ctlcluster', [cluster.version, cluster.name, 'stop'], { stdio: 'ignore', env: process.env });
  });
  await waitFor(host, port, `PostgreSQL cluster ${name}`, { hint: `see ${cluster.log}` });
}

/** This machine's PostgreSQL clusters as Debian's pg_lsclusters lists them; none where it is missing. */
function debianClusters() {
  // env: this module's own process.env (under jest, the test's), whose PATH finds the tools.
  const listed = spawnSync('pg_lsclusters', ['--no-header'], { encoding: 'utf8', env: process.env });
  if (listed.status !== 0) return [];
  return listed.stdout
    .split('\n')
    .filter((line) => line.trim())
    .map((line) => {
      const [version, name, port, status, , , log = 'its log file'] = line.trim().split(/\s+/);
      return { version, name, port: Number(port), status: status ?? '', log };
    });
}

/**
 * The URL of the project-local cluster in `dataDir`: the one running already, else one started now on
 * `port` (a free one when undefined), after installing PostgreSQL when it is missing.
 */
async function useLocalPostgres(url, port, options) {
  const local = new URL(url);
  local.hostname = '127.0.0.1';
  clearWayForCluster(options.dataDir);
  let running = await runningLocalPostgres(options.dataDir);
  if (running === undefined) {
    if (!options.postgresBin && !findPostgresBin()) {
      aptInstall(['postgresql']);
      if (port !== undefined && (await answers('127.0.0.1', port))) return useRunningPostgres(url, options);
    }
    running = await startLocalPostgres(port, options);
  }
  local.port = String(running);
  const password = localPassword(options.dataDir);
  if (password) [local.username, local.password] = ['postgres', password];
  else warnTrusting(options.dataDir);
  return local.toString();
}

/**
 * The port of the project-local cluster in `dataDir` when its server runs already (left by an earlier
 * `npm start` or `npm test` killed before it could stop it, or that of one running now), as its
 * postmaster.pid says; undefined when none runs. That server is used as it is, and left running.
 */
export async function runningLocalPostgres(dataDir) {
  const running = postmasterOf(dataDir);
  if (!running) return undefined;
  say(`using the project-local PostgreSQL already running on 127.0.0.1:${running.port} (pid ${running.pid}); it is left running`);
  const pidFile = join(dataDir, 'postmaster.pid');
  await waitFor('127.0.0.1', running.port, 'The project-local PostgreSQL', {
    hint: `its process ${running.pid} is named in ${pidFile}: stop it (pg_ctl -D ${dataDir} stop), or remove that file if that PostgreSQL is another cluster's`,
  });
  return running.port;
}

/** The pid and port `dataDir`'s postmaster.pid names (its lines 1 and 4), if there is one. */
function postmasterLock(dataDir) {
  let lines;
  try {
    lines = readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n');
  } catch {
    return undefined;
  }
  return { pid: Number(lines[0]), port: Number(lines[3]) };
}

/** The pid and port in `dataDir`'s postmaster.pid when that process is a PostgreSQL server still (see runs). */
function postmasterOf(dataDir) {
  const lock = postmasterLock(dataDir);
  if (!lock || !(lock.port > 0) || !runs(lock.pid, POSTGRES_PROGRAMS)) return undefined;
  return lock;
}

/**
 * Removes `dataDir`'s postmaster.pid when the process it names is alive but no PostgreSQL server (see
 * runs): a pid taken by another program since (after a restart of the machine, say). PostgreSQL itself
 * takes a lock file naming a live process of its user for a server still running and refuses to start;
 * one naming a gone process it replaces by itself. Called only when no server of this cluster runs
 * (postmasterOf found none).
 */
function removeStaleLock(dataDir) {
  const pid = postmasterLock(dataDir)?.pid;
  if (!(Number.isInteger(pid) && pid > 0) || !isAlive(pid) || runs(pid, POSTGRES_PROGRAMS)) return;
  const lockFile = join(dataDir, 'postmaster.pid');
  say(`removing ${lockFile}: the process it names (${pid}) is no PostgreSQL server any more`);
  rmSync(lockFile, { force: true });
}

/** The names PostgreSQL's server runs under (postmaster: older versions' link to postgres). */
const POSTGRES_PROGRAMS = ['postgres', 'postmaster'];

/**
 * Whether process `pid`, named in a file we (or PostgreSQL) wrote, is alive and is `program` (a name, or
 * any of a list): the name the kernel gives it (/proc/<pid>/comm, cut to 15 characters) and that of its
 * first argument (/proc/<pid>/cmdline, the file it was started from) must both be one. A pid noted long
 * ago may be another program's by now, and must not be taken for ours still running. Where there is no
 * /proc (not Linux), whether it is alive.
 * @param {number} pid
 * @param {string | string[]} program
 * @returns {boolean}
 */
export function runs(pid, program) {
  if (!(Number.isInteger(pid) && pid > 0) || !isAlive(pid)) return false;
  if (!existsSync('/proc/self/comm')) return true;
  const names = [program].flat();
  try {
    const comm = readFileSync(`/proc/${pid}/comm`, 'utf8').replace(/\n$/, '');
    const first = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0];
    return names.some((name) => name.slice(0, 15) === comm) && names.includes(basename(first));
  } catch {
    return false; // gone meanwhile
  }
}

function isAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === 'EPERM'; // alive, another user's
  }
}

/** Starts the project-local cluster in `dataDir` (made first if missing) on `port` (a free one when undefined); returns the port. */
async function startLocalPostgres(port, { onStarted, dataDir, postgresBin }) {
  const host = '127.0.0.1';
  const bin = postgresBin ?? findPostgresBin(clusterVersion(dataDir));
  if (!bin) throw new Error('PostgreSQL could not be installed');
  if (!isCluster(dataDir)) initCluster(bin, dataDir);
  removeStaleLock(dataDir);
  port ??= await freePort();
  say(`starting project-local PostgreSQL on ${host}:${port}`);
  const logFile = join(dataDir, 'server.log');
  // TCP on 127.0.0.1 only, no unix socket (/tmp's would let any local user try).
  const options = `-p ${port} -c listen_addresses=${host} -c unix_socket_directories=''`;
  const stop = async () => {
    say('stopping project-local PostgreSQL');
    runPg(join(bin, 'pg_ctl'), ['-D', dataDir, '-m', 'fast', '-w', 'stop'], { stdio: 'ignore' });
  };
  const started = runPg(join(bin, 'pg_ctl'), ['-D', dataDir, '-l', logFile, '-o', options, '-w', 'start']);
  // Registered only once it is ours: a start that failed (the cluster already running for another run) stops nothing.
  if (started.status !== 0) throw new Error(`PostgreSQL did not start${failure(started)}; see ${logFile}`);
  onStarted(stop);
  await waitFor(host, port, 'PostgreSQL', { hint: `see ${logFile}` });
  return port;
}

/**
 * Removes what set-ups interrupted while they made a cluster for `dataDir` left (see initCluster: folders
 * `<dataDir>.unfinished-<pid>` whose process is gone), and stops with a message when something that is no
 * cluster is at `dataDir` (an empty folder is not in the way).
 */
function clearWayForCluster(dataDir) {
  const parent = dirname(dataDir);
  const prefix = `${basename(dataDir)}.unfinished-`;
  const left = existsSync(parent) ? readdirSync(parent).filter((name) => name.startsWith(prefix) && /^\d+$/.test(name.slice(prefix.length))) : [];
  for (const name of left) {
    // Another set-up (a Node.js process) making it now; a pid taken by another program since does not count.
    if (runs(Number(name.slice(prefix.length)), SET_UP_PROGRAMS)) continue;
    say(`removing ${join(parent, name)}, a cluster half made by a set-up that was interrupted`);
    rmSync(join(parent, name), { recursive: true, force: true });
  }
  if (!existsSync(dataDir) || isCluster(dataDir) || isEmptyFolder(dataDir)) return;
  throw new Error(
    `${dataDir} is in the way of the project-local PostgreSQL cluster: it is there but holds no cluster (no PG_VERSION). Move it away, or remove it if nothing in it is needed (rm -r ${dataDir}), and run again.`,
  );
}

/** The names a set-up runs under: this Node.js's, and node. */
const SET_UP_PROGRAMS = [...new Set([basename(process.execPath), 'node'])];

function isEmptyFolder(path) {
  return statSync(path).isDirectory() && readdirSync(path).length === 0;
}

/**
 * Makes the cluster of `dataDir` whole or not at all: initdb makes it in `<dataDir>.unfinished-<pid>`,
 * which gets the password file and only then is renamed to `dataDir`. A set-up interrupted before (Ctrl-C,
 * killed, a full disk) leaves no cluster at `dataDir` whose password was never kept, and the next one
 * removes what it left (clearWayForCluster) and makes it afresh.
 */
function initCluster(bin, dataDir) {
  say(`creating a project-local PostgreSQL cluster in ${dataDir}`);
  const unfinished = `${dataDir}.unfinished-${process.pid}`;
  rmSync(unfinished, { recursive: true, force: true }); // left by an earlier process of our pid
  try {
    makeCluster(bin, unfinished);
    renameSync(unfinished, dataDir);
  } catch (error) {
    if (!isCluster(dataDir)) throw error;
    say(`another set-up made the cluster in ${dataDir} meanwhile; using that one`);
  } finally {
    rmSync(unfinished, { recursive: true, force: true });
  }
}

/**
 * Makes a cluster in `dir`, with the locale C.UTF-8 (always there on Debian; not the environment's, which may be C
 * or missing). Its `postgres` user gets a generated password, kept in the cluster's folder (see
 * localPassword): over TCP it lets no one in without it, and locally (unix sockets, which it is started
 * without) only the system user of the same name.
 */
function makeCluster(bin, dir) {
  mkdirSync(dir, { recursive: true });
  if (isRoot()) chownAll(dir, 'postgres');
  const password = generatedPassword();
  const result = withPasswordFile(password, (file) =>
    runPg(join(bin, 'initdb'), [
      '-D',
      dir,
      '-U',
      'postgres',
      '--auth-host=scram-sha-256',
      '--auth-local=peer',
      `--pwfile=${file}`,
      '-E',
      'UTF8',
      '--locale=C.UTF-8',
      '--no-instructions',
    ]),
  );
  if (result.status !== 0) throw new Error(`initdb failed${failure(result)}`);
  writeSecret(passwordFile(dir), `${password}\n`);
}

/** Runs `action` with `password` in a file of its own that only initdb's user can read, removed afterwards. */
function withPasswordFile(password, action) {
  const dir = mkdtempSync(join(tmpdir(), 'portico-initdb-'));
  const file = join(dir, 'password');
  try {
    writeFileSync(file, `${password}\n`, { mode: 0o600 });
    if (isRoot()) for (const path of [dir, file]) chownSync(path, ...systemIds('postgres'));
    return action(file);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Where the password of the project-local cluster's `postgres` user is kept: in its own folder (.local/postgres/ unless root). */
function passwordFile(dataDir) {
  return join(dataDir, 'portico-password');
}

/** The password of the project-local cluster in `dataDir`; undefined for one made without (by an earlier version of this script). */
export function localPassword(dataDir) {
  try {
    return readFileSync(passwordFile(dataDir), 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

/** Says that the cluster, made by an earlier version of this script, lets every local user in. */
function warnTrusting(dataDir) {
  say(
    `warning: the project-local PostgreSQL in ${dataDir} was made without a password and lets any user of this machine in (over TCP on 127.0.0.1); once its data is no longer needed, remove that folder to have one with a password made`,
  );
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

/** The uid and gid of system user `user`. */
function systemIds(user) {
  return ['-u', '-g'].map((which) => Number(execFileSync('id', [which, user]).toString().trim()));
}

function chownAll(path, user) {
  chownSync(path, ...systemIds(user));
  // The project folder must be traversable by that user.
  for (let dir = resolve(path, '..'); dir !== '/'; dir = resolve(dir, '..')) {
    if ((statSync(dir).mode & 0o001) === 0) say(`warning: ${dir} is not traversable by ${user}`);
  }
}

/**
 * Makes sure NATS with JetStream answers at `natsUrl`, and returns what to connect with: `{ url }`, or, for
 * a project-local `nats-server -js`, `{ url, user, password }`. When `mayMove` (the URL is the default
 * one: see mayMoveNats), that is the project-local server still running (an earlier run killed before it
 * could stop it), if there is one, or one started on a free port when the server at the URL has no
 * JetStream (Debian's nats-server service), or on the URL's port when nothing answers there. A URL that
 * was set is used as it is: when nothing answers there, this stops with a message naming NATS_URL (a
 * project-local server is never started in its place). `onStarted` is given, as soon as a server is
 * started, the function that stops it; `local` is the folder of the project-local server's store, log and password;
 * `auth` the credentials the services will use (NATS_USER/NATS_PASSWORD or NATS_CREDS_FILE by default), which the
 * check of a running server uses too (one that refuses them is named so).
 * @param {string} natsUrl
 * @param {{ mayMove?: boolean, onStarted?: (stop: () => Promise<void>) => void, local?: string, auth?: { user?: string, password?: string, credsFile?: string } }} [options]
 * @returns {Promise<{ url: string, user?: string, password?: string }>}
 */
export async function ensureNats(natsUrl, { mayMove = false, onStarted = () => {}, local = LOCAL, auth = natsAuthFrom(process.env) } = {}) {
  const url = new URL(natsUrl.split(',')[0]);
  const host = url.hostname || '127.0.0.1';
  const port = Number(url.port || 4222);
  const options = { mayMove, onStarted, local, auth };
  const running = mayMove ? await runningLocalNats(local) : undefined;
  if (running) return running;
  if (await answers(host, port)) return useRunningNats(natsUrl, options);
  if (!mayMove || !isLocalHost(host)) {
    throw new Error(
      `Nothing answers at NATS_URL ${redactedNats(natsUrl)}. Start the NATS server it names (with JetStream: nats-server -js), or unset NATS_URL to have a project-local nats-server used.`,
    );
  }
  ensureNatsBinary();
  if (await answers(host, port)) return useRunningNats(natsUrl, options);
  return { url: natsUrl, ...(await startLocalNats(host, port, onStarted, { local })) };
}

/**
 * Whether a NATS URL that was set is only the default spelt out (nats://, this machine, port 4222, no
 * user, one server: as .env.example has it): it may move as the default does (a project-local
 * nats-server, started when nothing answers there), where another URL names a server of its own (one
 * with TLS, say: tls://, which the project-local nats-server does not serve). Unset: true.
 * @param {string | undefined} natsUrl
 */
export function mayMoveNats(natsUrl) {
  if (!natsUrl) return true;
  if (natsUrl.includes(',')) return false;
  const url = new URL(natsUrl);
  return url.protocol === 'nats:' && isLocalHost(url.hostname || '127.0.0.1') && Number(url.port || 4222) === 4222 && !url.username && !url.password;
}

/** A NATS URL (servers separated by commas) for messages: passwords, if any, hidden. */
function redactedNats(natsUrl) {
  return (
    natsUrl
      .split(',')
      // A server without a scheme (host:port, user:password@host:port) is read as nats:// and shown without it.
      .map((server) => (server.includes('://') ? redacted(server) : redacted(`nats://${server}`).slice('nats://'.length)))
      .join(',')
  );
}

/**
 * The NATS credentials the services will use, as they read them (`-` or empty: none): a user and
 * password, or a credentials file.
 * @param {NodeJS.ProcessEnv} env
 */
export function natsAuthFrom(env) {
  const given = (name) => (env[name] && env[name] !== '-' ? env[name] : undefined);
  return { user: given('NATS_USER'), password: given('NATS_PASSWORD'), credsFile: given('NATS_CREDS_FILE') };
}

/** What to connect with when something answers at `natsUrl`: `natsUrl` if it has JetStream for the services' credentials. */
async function useRunningNats(natsUrl, { mayMove, onStarted, local, auth }) {
  const missing = await jetStreamMissing(natsUrl, auth);
  if (!missing) return { url: natsUrl };
  const refused = /authori[sz]ation|authentication/i.test(missing);
  if (refused && (auth.user || auth.credsFile)) {
    throw new Error(
      `NATS at ${redactedNats(natsUrl)} refuses the credentials given (${auth.credsFile ? 'NATS_CREDS_FILE' : 'NATS_USER/NATS_PASSWORD'}): ${missing}.`,
    );
  }
  if (!mayMove) {
    const fix = refused
      ? 'Set NATS_USER/NATS_PASSWORD or NATS_CREDS_FILE to credentials it takes'
      : 'Set NATS_URL to a NATS server with JetStream enabled (nats-server -js)';
    throw new Error(`NATS at ${redactedNats(natsUrl)} cannot be used (${missing}). ${fix}.`);
  }
  say(`NATS at ${natsUrl} ${refused ? 'wants credentials' : 'has no JetStream'} (${missing}); using a project-local nats-server instead`);
  const port = await freePort();
  return { url: `nats://127.0.0.1:${port}`, ...(await startLocalNats('127.0.0.1', port, onStarted, { local })) };
}

/** Why NATS at `natsUrl` cannot serve JetStream (to `user` with `password`, or the `credsFile`, when given), or undefined when it can. */
async function jetStreamMissing(natsUrl, { user, password, credsFile } = {}) {
  const { connect: connectNats, credsAuthenticator } = await import('@nats-io/transport-node');
  const { jetstreamManager } = await import('@nats-io/jetstream');
  let nc;
  try {
    const auth = credsFile ? { authenticator: credsAuthenticator(readFileSync(credsFile)) } : { user, pass: password };
    nc = await connectNats({ servers: natsUrl.split(','), ...auth, timeout: 5000, maxReconnectAttempts: 0 });
    await jetstreamManager(nc, { timeout: 5000 }); // asks $JS.API.INFO; fails without JetStream
    return undefined;
  } catch (error) {
    return error.message;
  } finally {
    await nc?.close().catch(() => {});
  }
}

/** The one user of the project-local nats-server. */
const NATS_USER = 'portico';

/** The names a nats-server runs under (besides the one it was started as, noted with its pid). */
const NATS_PROGRAMS = ['nats-server'];

/**
 * The project-local nats-server still running (left by an earlier `npm start` killed before it could
 * stop it), from the pid, port and program noted in `local` when it was started: when that process is
 * a nats-server still (see runs: one of another name, from NATS_SERVER_BIN say, by the name noted) and
 * lets us in with JetStream. It is used as it is, and left running.
 * @param {string} local the folder of the project-local nats-server's store, log and password
 * @returns {Promise<{ url: string, user: string, password: string } | undefined>}
 */
export async function runningLocalNats(local) {
  let lines;
  try {
    lines = readFileSync(join(local, 'nats-running'), 'utf8').split('\n');
  } catch {
    return undefined;
  }
  const [pid, port, program] = [Number(lines[0]), Number(lines[1]), lines[2]];
  if (!(port > 0) || !runs(pid, program ? [...NATS_PROGRAMS, program] : NATS_PROGRAMS)) return undefined;
  const found = { url: `nats://127.0.0.1:${port}`, user: NATS_USER, password: natsPassword(local) };
  if (await jetStreamMissing(found.url, found)) return undefined;
  say(`using the project-local NATS already running on 127.0.0.1:${port} (pid ${pid}); it is left running`);
  return found;
}

/**
 * Starts the project-local `nats-server -js` (`bin`, else the one found or installed) on host:port, with
 * its store and log (nats.log) in `local`, and waits up to `ms` for it to listen; stops with a message as
 * soon as it cannot be run or exits. Only user `portico` may connect, with a generated password kept in
 * `local` (in a config file only we can read: a command line is there for every local user to see).
 * Returns that user and password.
 */
export async function startLocalNats(host, port, onStarted, { local = LOCAL, bin = ensureNatsBinary(), ms = 30_000 } = {}) {
  const storeDir = join(local, 'nats');
  mkdirSync(storeDir, { recursive: true });
  const credentials = { user: NATS_USER, password: natsPassword(local) };
  const config = join(local, 'nats.conf');
  writeSecret(config, `# Written by scripts/infra.mjs.\nauthorization {\n  user: ${credentials.user}\n  password: "${credentials.password}"\n}\n`);
  say(`starting project-local NATS with JetStream on ${host}:${port}`);
  const logFile = join(local, 'nats.log');
  const log = openSync(logFile, 'a');
  const child = spawn(bin, ['-c', config, '-a', host === 'localhost' ? '127.0.0.1' : host, '-p', String(port), '-js', '-sd', storeDir], {
    stdio: ['ignore', log, log],
    detached: true,
  });
  closeSync(log); // the child has its own copy
  child.unref();
  let ended;
  child.once('error', (error) => {
    ended = new Error(
      `nats-server could not be run (${error.message}): set NATS_SERVER_BIN to an executable nats-server, or install one (apt-get install nats-server)`,
    );
  });
  child.once('exit', (code, signal) => {
    ended = new Error(`nats-server exited (${code ?? signal}) before listening on ${host}:${port}; see ${logFile}`);
  });
  if (child.pid === undefined) throw await new Promise((done) => child.once('error', () => done(ended))); // not run: no pid, an error to come
  const running = join(local, 'nats-running');
  onStarted(() => stopNats(child, running));
  await waitFor(host, port, 'NATS', { ms, hint: `see ${logFile}`, failed: () => ended });
  writeFileSync(running, `${child.pid}\n${port}\n${basename(bin)}\n`);
  return credentials;
}

/** The password of the project-local nats-server, kept in `local` (made the first time). */
function natsPassword(local) {
  const file = join(local, 'nats-password');
  if (!existsSync(file)) writeSecret(file, `${generatedPassword()}\n`);
  return readFileSync(file, 'utf8').trim();
}

/** A password for a project-local server: 192 random bits, in characters no URL or config file needs to escape. */
function generatedPassword() {
  return randomBytes(24).toString('base64url');
}

/** Writes `text` to `file`, which only we may read. */
function writeSecret(file, text) {
  if (existsSync(file)) chmodSync(file, 0o600); // before it is written: `mode` only applies to a file made now
  writeFileSync(file, text, { mode: 0o600 });
}

async function stopNats(child, running) {
  rmSync(running, { force: true });
  if (child.exitCode !== null || child.signalCode !== null) return; // gone already: its pid may be another's now
  say('stopping project-local NATS');
  try {
    process.kill(child.pid, 'SIGTERM');
  } catch {
    /* just gone */
  }
}

/** Where an install of the set-up notes the SHA-256 of the lock file it installed. */
const INSTALLED_LOCK = join('node_modules', '.portico-installed-lock');

/** Installs the npm dependencies unless node_modules holds what the lock file asks for ({@link dependenciesInstalled}). */
export function ensureDependencies() {
  if (dependenciesInstalled()) return;
  // `npm install --no-save` installs exactly the lock file; `npm ci` would refuse it because npm
  // leaves other platforms' optional binaries (swc, argon2) out of the lock.
  say('installing npm dependencies');
  // --include=dev: the build (swc) and the tests need them even under NODE_ENV=production.
  execFileSync('npm', ['install', '--no-save', '--include=dev', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: ROOT, stdio: 'inherit' });
  writeFileSync(join(ROOT, INSTALLED_LOCK), `${sha256Of(join(ROOT, 'package-lock.json'))}\n`);
}

/**
 * Whether `root`'s node_modules holds what its lock file asks for: the set-up's last install there
 * noted the lock file's SHA-256, and it is the same (contents, not times: a checkout or a copy gives
 * the lock file a new time without changing it, and a clone whose node_modules is a link to another
 * checkout's must not install over the link); without a note (an install by hand, or by a release
 * before), node_modules newer than the lock file.
 */
export function dependenciesInstalled(root = ROOT) {
  const modules = join(root, 'node_modules', '.package-lock.json');
  const lock = join(root, 'package-lock.json');
  if (!existsSync(modules)) return false;
  const noted = join(root, INSTALLED_LOCK);
  if (existsSync(noted)) return readFileSync(noted, 'utf8').trim() === sha256Of(lock);
  return statSync(modules).mtimeMs >= statSync(lock).mtimeMs;
}

function sha256Of(file) {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
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

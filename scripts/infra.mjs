// Makes PostgreSQL and NATS available for `npm start` and `npm test` on a fresh machine:
// uses what already answers, installs Debian's packages when missing (as root), and otherwise
// starts project-local instances with their data under .local/ (ignored by git).
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readdirSync, chownSync, statSync } from 'node:fs';
import { connect } from 'node:net';
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
  if (!aptUpdated) execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  aptUpdated = true;
  execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...packages], { stdio: 'inherit', env });
}

function findPostgresBin() {
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return undefined;
  const versions = readdirSync(base)
    .filter((v) => existsSync(join(base, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions.length ? join(base, versions[0], 'bin') : undefined;
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

/** Runs a PostgreSQL tool as the `postgres` system user when we are root (PostgreSQL refuses to run as root). */
function runPg(bin, args, options = {}) {
  if (isRoot()) return spawnSync('runuser', ['-u', 'postgres', '--', bin, ...args], { stdio: 'inherit', ...options });
  return spawnSync(bin, args, { stdio: 'inherit', ...options });
}

/**
 * Makes sure PostgreSQL answers at `databaseUrl`. Returns a function that stops what this call
 * started (nothing, when a server was already there).
 */
export async function ensurePostgres(databaseUrl) {
  const url = new URL(databaseUrl);
  const host = url.hostname || '127.0.0.1';
  const port = Number(url.port || 5432);
  if (await answers(host, port)) return async () => {};
  if (!['127.0.0.1', 'localhost', '::1'].includes(host)) throw new Error(`PostgreSQL does not answer at ${host}:${port}`);
  let bin = findPostgresBin();
  if (!bin) {
    aptInstall(['postgresql']);
    bin = findPostgresBin();
    if (await answers(host, port)) return async () => {};
  }
  const dataDir = join(LOCAL, 'postgres');
  mkdirSync(LOCAL, { recursive: true });
  if (!existsSync(join(dataDir, 'PG_VERSION'))) {
    say(`creating a project-local PostgreSQL cluster in ${dataDir}`);
    mkdirSync(dataDir, { recursive: true });
    if (isRoot()) chownAll(dataDir, 'postgres');
    const result = runPg(join(bin, 'initdb'), ['-D', dataDir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-instructions']);
    if (result.status !== 0) throw new Error('initdb failed');
  }
  say(`starting project-local PostgreSQL on ${host}:${port}`);
  const logFile = join(dataDir, 'server.log');
  const options = `-p ${port} -c listen_addresses=${host === 'localhost' ? '127.0.0.1' : host} -c unix_socket_directories=/tmp`;
  const started = runPg(join(bin, 'pg_ctl'), ['-D', dataDir, '-l', logFile, '-o', options, '-w', 'start']);
  if (started.status !== 0) throw new Error(`PostgreSQL did not start; see ${logFile}`);
  await waitFor(host, port, 'PostgreSQL');
  return async () => {
    say('stopping project-local PostgreSQL');
    runPg(join(bin, 'pg_ctl'), ['-D', dataDir, '-m', 'fast', '-w', 'stop'], { stdio: 'ignore' });
  };
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

/** Makes sure NATS (with JetStream) answers at `natsUrl`; returns a function that stops what it started. */
export async function ensureNats(natsUrl) {
  const url = new URL(natsUrl.split(',')[0]);
  const host = url.hostname || '127.0.0.1';
  const port = Number(url.port || 4222);
  if (await answers(host, port)) return async () => {};
  if (!['127.0.0.1', 'localhost', '::1'].includes(host)) throw new Error(`NATS does not answer at ${host}:${port}`);
  const bin = ensureNatsBinary();
  if (await answers(host, port)) return async () => {};
  const storeDir = join(LOCAL, 'nats');
  mkdirSync(storeDir, { recursive: true });
  say(`starting project-local NATS with JetStream on ${host}:${port}`);
  const log = openSync(join(LOCAL, 'nats.log'), 'a');
  const child = spawn(bin, ['-a', host === 'localhost' ? '127.0.0.1' : host, '-p', String(port), '-js', '-sd', storeDir], {
    stdio: ['ignore', log, log],
    detached: true,
  });
  child.unref();
  await waitFor(host, port, 'NATS');
  return async () => {
    say('stopping project-local NATS');
    try {
      process.kill(child.pid, 'SIGTERM');
    } catch {
      /* already gone */
    }
  };
}

/** Installs the npm dependencies when node_modules is missing or older than the lock file. */
export function ensureDependencies() {
  const modules = join(ROOT, 'node_modules', '.package-lock.json');
  const lock = join(ROOT, 'package-lock.json');
  if (existsSync(modules) && statSync(modules).mtimeMs >= statSync(lock).mtimeMs) return;
  // `npm install --no-save` installs exactly the lock file; `npm ci` would refuse it because npm
  // leaves other platforms' optional binaries (swc, argon2) out of the lock.
  say('installing npm dependencies');
  execFileSync('npm', ['install', '--no-save', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: ROOT, stdio: 'inherit' });
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

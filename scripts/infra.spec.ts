import { jest } from '@jest/globals';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import {
  dependenciesInstalled,
  ensureNats,
  ensurePostgres,
  freePort,
  localPassword,
  mayMoveNats,
  mayMovePostgres,
  runningLocalPostgres,
  runs,
  startLocalNats,
} from './infra.mjs';

// The set-up of `npm start` and `npm test`, with stand-ins for the servers and Debian's tools: the
// machine's own PostgreSQL and NATS are never touched (spare ports, a temporary folder for each test).

let dir: string;
let listener: Server | undefined;
const path = process.env.PATH;
const natsServerBin = process.env.NATS_SERVER_BIN;
/** What stops the servers a test started (stand-ins). */
const stops: (() => Promise<void>)[] = [];
const onStarted = (stop: () => Promise<void>) => stops.push(stop);
/** The stand-in processes a test started (namedProcess). */
const children: ChildProcess[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'portico-infra-'));
  jest.spyOn(process.stdout, 'write').mockReturnValue(true); // the set-up's steps, said as it goes
});

afterEach(async () => {
  while (stops.length) await stops.pop()!();
  for (const child of children.splice(0)) child.kill();
  killLeftListener();
  jest.restoreAllMocks();
  process.env.PATH = path;
  if (natsServerBin === undefined) delete process.env.NATS_SERVER_BIN;
  else process.env.NATS_SERVER_BIN = natsServerBin;
  await new Promise((done) => (listener ? listener.close(done) : done(undefined)));
  listener = undefined;
  rmSync(dir, { recursive: true, force: true });
});

/** Kills the listener a stand-in started, if a failed test did not stop it (a stand-in stopping it removes the file). */
function killLeftListener(): void {
  for (const file of [join(dir, 'listener'), join(dir, 'postgres', 'listener.pid')]) {
    try {
      process.kill(Number(readFileSync(file, 'utf8')));
    } catch {
      /* none */
    }
  }
}

/** A port something listens on (a stand-in for a server). */
async function listeningPort(): Promise<number> {
  listener = createServer((socket) => socket.destroy());
  await new Promise((done) => listener!.listen(0, '127.0.0.1', () => done(undefined)));
  return (listener.address() as { port: number }).port;
}

/** Writes an executable shell script `name` into a folder of stand-ins, and returns its path. */
function standIn(name: string, script: string): string {
  const bin = join(dir, 'bin');
  mkdirSync(bin, { recursive: true });
  writeFileSync(join(bin, name), `#!/bin/sh\n${script}\n`, { mode: 0o755 });
  return join(bin, name);
}

/** Puts stand-in `name` first on PATH, for Debian's tools that infra.mjs runs by name. */
function onPath(name: string, script: string): void {
  standIn(name, script);
  process.env.PATH = `${join(dir, 'bin')}:${path}`;
}

/** Node run as `name` (through a link of that name) with `script`: a stand-in for a server's own process, killed after the test. */
async function namedProcess(name: string, script = 'setInterval(() => {}, 1000)'): Promise<number> {
  const link = join(dir, 'named', name);
  mkdirSync(join(dir, 'named'), { recursive: true });
  symlinkSync(process.execPath, link);
  const child = spawn(link, ['-e', script], { stdio: 'ignore' });
  children.push(child);
  await once(child, 'spawn');
  return child.pid!;
}

/** A stand-in for PostgreSQL's server: a process named postgres that listens on `port`. */
function postgresProcess(port: number): Promise<number> {
  return namedProcess('postgres', `require('node:net').createServer((s) => s.destroy()).listen(${port}, '127.0.0.1')`);
}

/** A project-local cluster folder whose postmaster.pid names process `pid` on `port`, as PostgreSQL writes it. */
function clusterFolder(pid: number, port: number): string {
  const dataDir = join(dir, 'postgres');
  mkdirSync(dataDir);
  writeFileSync(join(dataDir, 'PG_VERSION'), '15\n');
  writeFileSync(join(dataDir, 'postmaster.pid'), [pid, dataDir, '1764633600', port, '/tmp', '127.0.0.1', '  1234567     65536', 'ready   ', ''].join('\n'));
  return dataDir;
}

describe('a project-local PostgreSQL still running (an earlier run killed before it could stop it)', () => {
  it('is used on the port its postmaster.pid names, instead of a second one being started, and is left running', async () => {
    const port = await freePort();
    const dataDir = clusterFolder(await postgresProcess(port), port);
    const started = jest.fn();

    const url = await ensurePostgres(`postgres://postgres@127.0.0.1:${await freePort()}/portico`, { mayMove: true, onStarted: started, dataDir });

    expect(url).toBe(`postgres://postgres@127.0.0.1:${port}/portico`);
    expect(started).not.toHaveBeenCalled();
  });

  it('is reached with the password kept in its folder, when it was made with one', async () => {
    const port = await freePort();
    const dataDir = clusterFolder(await postgresProcess(port), port);
    writeFileSync(join(dataDir, 'portico-password'), 'kept-password\n', { mode: 0o600 });

    const url = await ensurePostgres(`postgres://app@127.0.0.1:${await freePort()}/portico`, { mayMove: true, onStarted, dataDir });

    expect(url).toBe(`postgres://postgres:kept-password@127.0.0.1:${port}/portico`);
  });

  it('is not taken for running when the process its postmaster.pid names is gone', async () => {
    const gone = spawnSync('true').pid;

    await expect(runningLocalPostgres(clusterFolder(gone, await listeningPort()))).resolves.toBeUndefined();
  });

  it('is not taken for running when its pid is that of another program now (taken again after a restart of the machine, say)', async () => {
    await expect(runningLocalPostgres(clusterFolder(process.pid, await listeningPort()))).resolves.toBeUndefined();
  });
});

describe('runs: whether a pid noted in a file is that of a program still running', () => {
  it('is true for a live process of that name, this one', () => {
    expect(runs(process.pid, basename(process.argv0))).toBe(true);
  });

  it('is false for a live process of another program', () => {
    expect(runs(process.pid, 'postgres')).toBe(false);
  });

  it('is false for a process that is gone', () => {
    expect(runs(spawnSync('true').pid, 'true')).toBe(false);
  });

  it('is false for what is no pid (0 and -1 would signal a whole group)', () => {
    for (const pid of [0, -1, Number.NaN, 1.5]) expect(runs(pid, 'node')).toBe(false);
  });

  it('is true when the process is any of the names given', async () => {
    const pid = await namedProcess('postmaster');

    expect(runs(pid, ['postgres', 'postmaster'])).toBe(true);
    expect(runs(pid, ['nats-server', 'nats'])).toBe(false);
  });

  it('tells a long name from another it begins with, though the kernel keeps only its first 15 characters', async () => {
    const pid = await namedProcess('portico-stand-in-server');

    expect(runs(pid, 'portico-stand-in-server')).toBe(true);
    expect(runs(pid, 'portico-stand-in')).toBe(false);
  });
});

describe('a database URL that was set, where nothing answers', () => {
  it('stops with a message naming the URL (password hidden) when no Debian cluster is set to its port, and makes no cluster', async () => {
    const port = await freePort();
    onPath('pg_lsclusters', `echo "15 main ${port + 1} down postgres /var/lib/postgresql/15/main /var/log/postgresql/15-main.log"`);
    const dataDir = join(dir, 'postgres');

    const ensured = ensurePostgres(`postgres://app:secret@127.0.0.1:${port}/portico`, { urlName: 'TEST_DATABASE_URL', dataDir });

    await expect(ensured).rejects.toThrow(
      `Nothing answers at TEST_DATABASE_URL postgres://app:***@127.0.0.1:${port}/portico, and no PostgreSQL cluster of this machine is set to port ${port}`,
    );
    expect(existsSync(dataDir)).toBe(false);
  });

  it('starts the Debian cluster set to its port with pg_ctlcluster, and says when that fails', async () => {
    const port = await freePort();
    const calls = join(dir, 'pg_ctlcluster-calls');
    onPath('pg_lsclusters', `echo "15 main ${port} down postgres /var/lib/postgresql/15/main /var/log/postgresql/15-main.log"`);
    onPath('pg_ctlcluster', `echo "$@" >> ${calls}; exit 1`);

    const ensured = ensurePostgres(`postgres://postgres@127.0.0.1:${port}/portico`, { dataDir: join(dir, 'postgres') });

    await expect(ensured).rejects.toThrow(/pg_ctlcluster 15 main start failed \(exit 1\); see \/var\/log\/postgresql\/15-main\.log/);
    expect(readFileSync(calls, 'utf8')).toBe('15 main start\n');
  });

  it('goes on to the cluster started, and hands over what stops it again', async () => {
    const port = await freePort();
    const calls = join(dir, 'pg_ctlcluster-calls');
    const listen = `"${process.execPath}" -e "require('node:net').createServer((s) => s.destroy()).listen(${port}, '127.0.0.1')"`;
    onPath('pg_lsclusters', `echo "15 main ${port} down postgres /var/lib/postgresql/15/main /var/log/postgresql/15-main.log"`);
    onPath(
      'pg_ctlcluster',
      `echo "$@" >> ${calls}; case "$3" in start) ${listen} > /dev/null 2>&1 & echo $! > ${dir}/listener;; stop) kill $(cat ${dir}/listener) && rm ${dir}/listener;; esac`,
    );

    const ensured = ensurePostgres(`postgres://postgres@127.0.0.1:${port}/portico`, { onStarted, dataDir: join(dir, 'postgres') });

    // The stand-in is no PostgreSQL: logging in is where it ends.
    await expect(ensured).rejects.toThrow(`PostgreSQL at 127.0.0.1:${port} answers but cannot be used`);
    expect(stops).toHaveLength(1);
    await stops.pop()!();
    expect(readFileSync(calls, 'utf8')).toBe('15 main start\n15 main stop\n');
  });
});

describe('the project-local nats-server', () => {
  const local = () => join(dir, 'local');

  it('that cannot be run stops the set-up with a message saying so', async () => {
    const bin = join(dir, 'nats-server');
    writeFileSync(bin, 'not a program', { mode: 0o644 });
    const stoppable = jest.fn();

    const started = startLocalNats('127.0.0.1', await freePort(), stoppable, { local: local(), bin });

    await expect(started).rejects.toThrow(/nats-server could not be run \(spawn .*nats-server EACCES\)/);
    expect(stoppable).not.toHaveBeenCalled();
  });

  it('that exits before listening stops the set-up with a message naming its log', async () => {
    const bin = standIn('nats-server', 'exit 3');

    const started = startLocalNats('127.0.0.1', await freePort(), onStarted, { local: local(), bin });

    await expect(started).rejects.toThrow(`nats-server exited (3) before listening on 127.0.0.1:`);
    await expect(started).rejects.toThrow(`see ${join(local(), 'nats.log')}`);
  });

  it('that never listens stops the set-up, when the wait ends, with a message naming its log', async () => {
    const bin = standIn('nats-server', 'exec sleep 60');

    const started = startLocalNats('127.0.0.1', await freePort(), onStarted, { local: local(), bin, ms: 300 });

    await expect(started).rejects.toThrow(`NATS did not start listening on 127.0.0.1:`);
    await expect(started).rejects.toThrow(`see ${join(local(), 'nats.log')}`);
  });

  it('that listens lets in only its user, with a generated password kept for us alone and not on its command line', async () => {
    const port = await freePort();
    const bin = standIn(
      'nats-server',
      `echo "$@" > ${join(dir, 'arguments')}; exec "${process.execPath}" -e "require('node:net').createServer().listen(${port}, '127.0.0.1')"`,
    );

    const credentials = await startLocalNats('127.0.0.1', port, onStarted, { local: local(), bin });

    const config = join(local(), 'nats.conf');
    expect(readFileSync(join(dir, 'arguments'), 'utf8')).toBe(`-c ${config} -a 127.0.0.1 -p ${port} -js -sd ${join(local(), 'nats')}\n`);
    expect(credentials).toEqual({ user: 'portico', password: expect.stringMatching(/^[\w-]{32}$/) });
    expect(readFileSync(config, 'utf8')).toContain(`authorization {\n  user: portico\n  password: "${credentials.password}"\n}`);
    expect(readFileSync(join(local(), 'nats-password'), 'utf8')).toBe(`${credentials.password}\n`);
    for (const file of [config, join(local(), 'nats-password')]) expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(stops).toHaveLength(1);
  });

  it('keeps its password from one start to the next', async () => {
    const port = await freePort();
    const bin = standIn('nats-server', `exec "${process.execPath}" -e "require('node:net').createServer().listen(${port}, '127.0.0.1')"`);
    const first = await startLocalNats('127.0.0.1', port, onStarted, { local: local(), bin });
    await stops.pop()!();

    await expect(startLocalNats('127.0.0.1', port, onStarted, { local: local(), bin })).resolves.toEqual(first);
  });
});

describe('a project-local PostgreSQL cluster made now', () => {
  /**
   * Stand-ins for initdb and pg_ctl that note what they were given, in the cluster's folder; pg_ctl's start
   * listens on `port`. initdb ends with `initdbEnd` (an exit, say, as when it is stopped halfway).
   */
  function postgresStandIns(port: number, initdbEnd = ''): string {
    chmodSync(dir, 0o755); // as root they run as the postgres user
    const bin = join(dir, 'pgbin');
    mkdirSync(bin);
    const initdb = `for a in "$@"; do case "$a" in --pwfile=*) cp "\${a#--pwfile=}" "$2/initdb-password";; esac; done
echo "$@" > "$2/initdb-arguments"; echo 15 > "$2/PG_VERSION"; ${initdbEnd}`;
    const listen = `"${process.execPath}" -e "require('node:net').createServer().listen(${port}, '127.0.0.1')"`;
    const pgCtl = `case "$*" in
  *" start") echo "$6" > "$2/pg_ctl-options"; ${listen} > /dev/null 2>&1 & echo $! > "$2/listener.pid";;
  *" stop") kill "$(cat "$2/listener.pid")" && rm "$2/listener.pid";;
esac`;
    writeFileSync(join(bin, 'initdb'), `#!/bin/sh\n${initdb}\n`, { mode: 0o755 });
    writeFileSync(join(bin, 'pg_ctl'), `#!/bin/sh\n${pgCtl}\n`, { mode: 0o755 });
    return bin;
  }

  it('lets no one in without a generated password, kept in its folder for us alone, and has no unix socket', async () => {
    const port = await freePort();
    const dataDir = join(dir, 'postgres');
    const postgresBin = postgresStandIns(port);

    const url = await ensurePostgres(`postgres://postgres@127.0.0.1:${port}/portico`, { mayMove: true, onStarted, dataDir, postgresBin });

    const password = readFileSync(join(dataDir, 'initdb-password'), 'utf8').trim();
    expect(password).toMatch(/^[\w-]{32}$/);
    expect(url).toBe(`postgres://postgres:${password}@127.0.0.1:${port}/portico`);
    expect(localPassword(dataDir)).toBe(password);
    expect(statSync(join(dataDir, 'portico-password')).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(dataDir, 'initdb-arguments'), 'utf8')).toContain(' --auth-host=scram-sha-256 --auth-local=peer --pwfile=');
    expect(readFileSync(join(dataDir, 'pg_ctl-options'), 'utf8')).toBe(`-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=''\n`);
  });

  it('is made whole in a folder of its own, renamed to its folder only once its password is kept there', async () => {
    const port = await freePort();
    const dataDir = join(dir, 'postgres');

    await ensurePostgres(`postgres://postgres@127.0.0.1:${port}/portico`, { mayMove: true, onStarted, dataDir, postgresBin: postgresStandIns(port) });

    expect(readFileSync(join(dataDir, 'initdb-arguments'), 'utf8')).toMatch(new RegExp(`^-D ${dataDir}\\.unfinished-${process.pid} `));
    expect(localPassword(dataDir)).toBeDefined();
    expect(readdirSync(dir).filter((name) => name.includes('.unfinished-'))).toEqual([]);
  });

  it('stopped halfway (initdb failing) leaves nothing at its folder, nor the half-made one', async () => {
    const port = await freePort();
    const dataDir = join(dir, 'postgres');
    const postgresBin = postgresStandIns(port, 'exit 1');

    const ensured = ensurePostgres(`postgres://postgres@127.0.0.1:${port}/portico`, { mayMove: true, onStarted, dataDir, postgresBin });

    await expect(ensured).rejects.toThrow('initdb failed (exit 1)');
    expect(existsSync(dataDir)).toBe(false);
    expect(readdirSync(dir).filter((name) => name.includes('.unfinished-'))).toEqual([]);
  });

  it('is made afresh after a set-up killed while it made one, whose half-made folder is removed; one that another set-up makes now is left alone', async () => {
    const port = await freePort();
    const dataDir = join(dir, 'postgres');
    const killed = `${dataDir}.unfinished-${spawnSync('true').pid}`;
    // The pid of a killed set-up, taken since by another program: no set-up makes that folder any more.
    const pidTakenSince = `${dataDir}.unfinished-${await namedProcess('portico-other')}`;
    const making = `${dataDir}.unfinished-${await namedProcess('node')}`;
    const notOurs = `${dataDir}.unfinished-by-hand`;
    for (const half of [killed, pidTakenSince, making, notOurs]) {
      mkdirSync(half);
      writeFileSync(join(half, 'PG_VERSION'), '15\n');
    }

    await ensurePostgres(`postgres://postgres@127.0.0.1:${port}/portico`, { mayMove: true, onStarted, dataDir, postgresBin: postgresStandIns(port) });

    expect(localPassword(dataDir)).toBeDefined();
    expect([killed, pidTakenSince, making, notOurs].map((half) => existsSync(half))).toEqual([false, false, true, true]);
  });

  it('starts after a restart of the machine whose postmaster.pid names a pid another program has taken (PostgreSQL would refuse it): that file is removed', async () => {
    const port = await freePort();
    const dataDir = clusterFolder(await namedProcess('portico-other'), port);
    chmodSync(dataDir, 0o777); // as root the stand-in pg_ctl runs as the postgres user

    const url = await ensurePostgres(`postgres://postgres@127.0.0.1:${port}/portico`, {
      mayMove: true,
      onStarted,
      dataDir,
      postgresBin: postgresStandIns(port),
    });

    expect(url).toBe(`postgres://postgres@127.0.0.1:${port}/portico`);
    expect(existsSync(join(dataDir, 'pg_ctl-options'))).toBe(true);
    expect(existsSync(join(dataDir, 'postmaster.pid'))).toBe(false);
  });

  it('leaves a postmaster.pid naming a gone process to PostgreSQL, which replaces it by itself', async () => {
    const port = await freePort();
    const dataDir = clusterFolder(spawnSync('true').pid!, port);
    chmodSync(dataDir, 0o777); // as root the stand-in pg_ctl runs as the postgres user

    await ensurePostgres(`postgres://postgres@127.0.0.1:${port}/portico`, { mayMove: true, onStarted, dataDir, postgresBin: postgresStandIns(port) });

    expect(existsSync(join(dataDir, 'pg_ctl-options'))).toBe(true);
    expect(existsSync(join(dataDir, 'postmaster.pid'))).toBe(true);
  });

  it('is made in an empty folder there already', async () => {
    const port = await freePort();
    const dataDir = join(dir, 'postgres');
    mkdirSync(dataDir);

    await ensurePostgres(`postgres://postgres@127.0.0.1:${port}/portico`, { mayMove: true, onStarted, dataDir, postgresBin: postgresStandIns(port) });

    expect(localPassword(dataDir)).toBeDefined();
  });

  it('is not made over a folder that holds something else: the set-up stops with a message naming it, and leaves it as it is', async () => {
    const port = await freePort();
    const dataDir = join(dir, 'postgres');
    mkdirSync(dataDir);
    writeFileSync(join(dataDir, 'notes'), 'mine\n');

    const ensured = ensurePostgres(`postgres://postgres@127.0.0.1:${port}/portico`, { mayMove: true, onStarted, dataDir, postgresBin: postgresStandIns(port) });

    await expect(ensured).rejects.toThrow(
      `${dataDir} is in the way of the project-local PostgreSQL cluster: it is there but holds no cluster (no PG_VERSION). Move it away, or remove it if nothing in it is needed (rm -r ${dataDir}), and run again.`,
    );
    expect(readdirSync(dataDir)).toEqual(['notes']);
    expect(readdirSync(dir).filter((name) => name.includes('.unfinished-'))).toEqual([]);
  });
});

describe('a database URL that was set', () => {
  it('is treated as the default when it only spells the default out (a fresh machine then gets PostgreSQL installed), as a server of its own otherwise', () => {
    expect(mayMovePostgres(undefined)).toBe(true);
    expect(mayMovePostgres('postgres://postgres@127.0.0.1:5432/postgres')).toBe(true);
    expect(mayMovePostgres('postgres://postgres@localhost/portico')).toBe(true);
    expect(mayMovePostgres('postgres://postgres:secret@127.0.0.1:5432/postgres')).toBe(false);
    expect(mayMovePostgres('postgres://app@127.0.0.1:5432/postgres')).toBe(false);
    expect(mayMovePostgres('postgres://postgres@127.0.0.1:5433/postgres')).toBe(false);
    expect(mayMovePostgres('postgres://postgres@db.internal:5432/postgres')).toBe(false);
  });
});

describe('a NATS URL that was set', () => {
  it('is treated as the default when it only spells the default out (as .env.example has it), as a server of its own otherwise', () => {
    const expected = {
      '': true,
      'nats://127.0.0.1:4222': true,
      'nats://localhost': true,
      'nats://127.0.0.1:4223': false,
      'nats://app:secret@127.0.0.1:4222': false,
      'nats://nats.internal:4222': false,
      'nats://127.0.0.1:4222,nats://127.0.0.1:4223': false,
      'tls://127.0.0.1:4222': false,
      'ws://127.0.0.1:4222': false,
    };

    expect(Object.fromEntries(Object.keys(expected).map((url) => [url, mayMoveNats(url || undefined)]))).toEqual(expected);
  });

  it('where nothing answers stops the set-up with a message naming NATS_URL (password hidden), and no nats-server is started in its place', async () => {
    const port = await freePort();
    process.env.NATS_SERVER_BIN = standIn('nats-server', `touch ${join(dir, 'nats-server-run')}`);
    const started = jest.fn();

    const ensured = ensureNats(`nats://app:secret@127.0.0.1:${port}`, {
      mayMove: mayMoveNats(`nats://app:secret@127.0.0.1:${port}`),
      onStarted: started,
      local: dir,
    });

    await expect(ensured).rejects.toThrow(
      `Nothing answers at NATS_URL nats://app:***@127.0.0.1:${port}. Start the NATS server it names (with JetStream: nats-server -js), or unset NATS_URL to have a project-local nats-server used.`,
    );
    expect(started).not.toHaveBeenCalled();
    expect(existsSync(join(dir, 'nats-server-run'))).toBe(false);
  });

  it('names every server of a list in that message, a bare host:port among them, passwords hidden', async () => {
    const [first, second] = [await freePort(), await freePort()];
    const natsUrl = `nats://app:secret@127.0.0.1:${first},127.0.0.1:${second},other:secret@127.0.0.1:${second}`;

    const ensured = ensureNats(natsUrl, { mayMove: mayMoveNats(natsUrl), onStarted, local: dir });

    await expect(ensured).rejects.toThrow(
      `Nothing answers at NATS_URL nats://app:***@127.0.0.1:${first},127.0.0.1:${second},other:***@127.0.0.1:${second}. Start the NATS server`,
    );
  });

  it('unset, where nothing answers, gets a project-local nats-server started on its port', async () => {
    const port = await freePort();
    process.env.NATS_SERVER_BIN = standIn('nats-server', `exec "${process.execPath}" -e "require('node:net').createServer().listen(${port}, '127.0.0.1')"`);

    const nats = await ensureNats(`nats://127.0.0.1:${port}`, { mayMove: mayMoveNats(undefined), onStarted, local: join(dir, 'local') });

    expect(nats).toEqual({ url: `nats://127.0.0.1:${port}`, user: 'portico', password: expect.any(String) });
    expect(stops).toHaveLength(1);
  });
});

describe('whether the npm dependencies need installing', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'deps-'));
    mkdirSync(join(root, 'node_modules'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  /** The lock file (contents) written now; node_modules installed (npm's own record) `ageMs` ago; the set-up's note of what it installed, if any. */
  function installed(lock: string, ageMs: number, noted?: string): boolean {
    const npmRecord = join(root, 'node_modules', '.package-lock.json');
    writeFileSync(npmRecord, '{}');
    const then = new Date(Date.now() - ageMs);
    utimesSync(npmRecord, then, then);
    writeFileSync(join(root, 'package-lock.json'), lock);
    if (noted !== undefined) writeFileSync(join(root, 'node_modules', '.portico-installed-lock'), `${sha256(noted)}\n`);
    return dependenciesInstalled(root);
  }
  const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

  it('not when the set-up installed this very lock file, however new the file is (a checkout, a clone sharing node_modules)', () => {
    expect(installed('{"v":1}', 60_000, '{"v":1}')).toBe(true);
  });

  it('when the lock file differs from the one installed, however old it is', () => {
    expect(installed('{"v":2}', -60_000, '{"v":1}')).toBe(false);
  });

  it('without a note, when the lock file is newer than node_modules', () => {
    expect(installed('{"v":1}', 60_000)).toBe(false);
    expect(installed('{"v":1}', -60_000)).toBe(true);
  });

  it('when nothing was installed', () => {
    rmSync(join(root, 'node_modules'), { recursive: true });
    writeFileSync(join(root, 'package-lock.json'), '{}');
    expect(dependenciesInstalled(root)).toBe(false);
  });
});

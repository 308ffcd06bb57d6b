import { jest } from '@jest/globals';
import { connect } from '@nats-io/transport-node';
import { chmodSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, natsServerBinary } from '#libs/testing/nats-server.js';
import { ensureNats, ensurePostgres, findPostgresBin, runningLocalNats, runningLocalPostgres, startLocalNats } from './infra.mjs';

// The project-local nats-server and PostgreSQL of `npm start` and `npm test`, real ones, on spare ports with
// their folders in a temporary one: the machine's own servers are never touched.

let local: string;
const stops: (() => Promise<void>)[] = [];

beforeEach(() => {
  local = mkdtempSync(join(tmpdir(), 'portico-infra-nats-'));
  jest.spyOn(process.stdout, 'write').mockReturnValue(true); // the set-up's steps, said as it goes
});

afterEach(async () => {
  while (stops.length) await stops.pop()!();
  jest.restoreAllMocks();
  rmSync(local, { recursive: true, force: true });
});

describe('the project-local nats-server', () => {
  it('lets in its user with its password, and no one without', async () => {
    const port = await freePort();
    const { user, password } = await startLocalNats('127.0.0.1', port, (stop: () => Promise<void>) => stops.push(stop), {
      local,
      bin: natsServerBinary(),
    });

    const servers = `nats://127.0.0.1:${port}`;
    await expect(connect({ servers, maxReconnectAttempts: 0 })).rejects.toThrow(/Authorization Violation/);
    const nc = await connect({ servers, user, pass: password, maxReconnectAttempts: 0 });
    await nc.close();
  });

  it('still running (an npm start killed before it could stop it) is used by the next npm start, and left running', async () => {
    const port = await freePort();
    const credentials = await startLocalNats('127.0.0.1', port, (stop: () => Promise<void>) => stops.push(stop), {
      local,
      bin: natsServerBinary(),
    });
    const started = jest.fn();

    const nats = await ensureNats(`nats://127.0.0.1:${await freePort()}`, { mayMove: true, onStarted: started, local });

    expect(nats).toEqual({ url: `nats://127.0.0.1:${port}`, ...credentials });
    expect(started).not.toHaveBeenCalled();
  });

  it('is not taken for running when the pid noted for it is that of another program now, though a nats-server that lets us in answers on its port', async () => {
    const port = await freePort();
    await startLocalNats('127.0.0.1', port, (stop: () => Promise<void>) => stops.push(stop), { local, bin: natsServerBinary() });
    await expect(runningLocalNats(local)).resolves.toMatchObject({ url: `nats://127.0.0.1:${port}` });

    writeFileSync(join(local, 'nats-running'), `${process.pid}\n${port}\n`);

    await expect(runningLocalNats(local)).resolves.toBeUndefined();
  });

  it('run from a nats-server of another name (NATS_SERVER_BIN, say), is found running by the name it was started as', async () => {
    const port = await freePort();
    const bin = join(local, 'nats-server-2.10.22');
    symlinkSync(natsServerBinary(), bin);
    await startLocalNats('127.0.0.1', port, (stop: () => Promise<void>) => stops.push(stop), { local, bin });

    await expect(runningLocalNats(local)).resolves.toMatchObject({ url: `nats://127.0.0.1:${port}` });
  });
});

describe("a NATS server of the user's own that wants credentials", () => {
  /** Such a server (the project-local kind: JetStream on, one user with a password), and its URL. */
  async function serverWithAUser() {
    const port = await freePort();
    const credentials = await startLocalNats('127.0.0.1', port, (stop: () => Promise<void>) => stops.push(stop), { local, bin: natsServerBinary() });
    return { url: `nats://127.0.0.1:${port}`, ...credentials };
  }

  it('is used with the credentials the services will use (it has JetStream)', async () => {
    const server = await serverWithAUser();
    await expect(ensureNats(server.url, { local, auth: { user: server.user, password: server.password } })).resolves.toEqual({ url: server.url });
  });

  it('is refused naming the credentials when it refuses them, not said to lack JetStream', async () => {
    const server = await serverWithAUser();
    await expect(ensureNats(server.url, { local, auth: { user: server.user, password: 'not its password' } })).rejects.toThrow(
      /refuses the credentials given \(NATS_USER\/NATS_PASSWORD\): Authorization Violation/,
    );
    await expect(ensureNats(server.url, { local, auth: {} })).rejects.toThrow(/Set NATS_USER\/NATS_PASSWORD or NATS_CREDS_FILE/);
  });
});

/** The bin folder of the newest PostgreSQL installed (Debian's layout, as `npm test` installs it). */
function postgresBin(): string {
  const bin = findPostgresBin();
  if (!bin) throw new Error('PostgreSQL not found in /usr/lib/postgresql: run the tests with `npm test`, which installs it');
  return bin;
}

describe('the project-local PostgreSQL', () => {
  it('made whole (in a folder of its own, then renamed) starts, lets us in with its password, and is found running by its postmaster.pid', async () => {
    chmodSync(local, 0o755); // as root, PostgreSQL runs as the postgres user
    const dataDir = join(local, 'postgres');
    const port = await freePort();

    const url = await ensurePostgres(`postgres://postgres@127.0.0.1:${port}/postgres`, {
      mayMove: true,
      onStarted: (stop: () => Promise<void>) => stops.push(stop),
      dataDir,
      postgresBin: postgresBin(),
    });

    const { default: pg } = await import('pg');
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.end();
    expect(readdirSync(local).filter((name) => name.includes('.unfinished-'))).toEqual([]);
    await expect(runningLocalPostgres(dataDir)).resolves.toBe(port);
  });
});

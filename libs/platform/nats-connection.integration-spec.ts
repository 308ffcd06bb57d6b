import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { writeNkeyCreds, type TestNkeyUser } from '#libs/testing/nats-creds.js';
import { TestNatsServer } from '#libs/testing/nats-server.js';
import { NatsLink } from './nats-connection.js';

const dir = mkdtempSync(join(tmpdir(), 'portico-creds-'));
const user: TestNkeyUser = writeNkeyCreds(join(dir, 'service.creds'));
const stranger: TestNkeyUser = writeNkeyCreds(join(dir, 'stranger.creds'));
const server = new TestNatsServer({ config: `authorization { users: [ { nkey: ${user.publicKey} } ] }\n` });
const logger = pino({ level: 'silent' });

beforeAll(() => server.start());

afterAll(async () => {
  await server.destroy();
  rmSync(dir, { recursive: true, force: true });
});

describe('NatsLink with a credentials file (NATS_CREDS_FILE)', () => {
  it('connects as the user of the .creds file', async () => {
    const link = await NatsLink.open({ url: server.url, name: 'creds-test', credsFile: user.credsFile, logger, waitMs: 0 });
    expect(link.isUp()).toBe(true);
    await link.close();
  });

  it('is refused by the server with the .creds file of another user', async () => {
    await expect(NatsLink.open({ url: server.url, name: 'creds-test', credsFile: stranger.credsFile, logger, waitMs: 0 })).rejects.toThrow(/authorization/i);
  });

  it('is refused without credentials', async () => {
    await expect(NatsLink.open({ url: server.url, name: 'creds-test', logger, waitMs: 0 })).rejects.toThrow(/authorization/i);
  });
});

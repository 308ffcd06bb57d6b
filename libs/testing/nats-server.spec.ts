import { mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { removeAbandonedStores } from './nats-server.js';

describe('stores of test NATS servers that an interrupted run left behind', () => {
  let folder: string;
  beforeEach(() => (folder = mkdtempSync(join(tmpdir(), 'sweep-test-'))));
  afterEach(() => rmSync(folder, { recursive: true, force: true }));

  /** A folder (or file) in `folder` last changed `hoursAgo` hours ago. */
  function made(name: string, hoursAgo: number, kind: 'folder' | 'file' = 'folder'): void {
    const path = join(folder, name);
    if (kind === 'folder') {
      mkdirSync(path);
      writeFileSync(join(path, 'inside'), 'x');
    } else writeFileSync(path, 'x');
    const when = new Date(Date.now() - hoursAgo * 3_600_000);
    utimesSync(path, when, when);
  }

  it('are removed once not changed for six hours; recent ones, and anything not named as a store, stay', () => {
    made('portico-nats-Ab12Cd', 7);
    made('portico-nats-Xy34Zw', 5);
    made('portico-nats-settings', 7);
    made('portico-nats-Qr56St', 7, 'file');
    made('other-Ab12Cd', 7);

    removeAbandonedStores(folder, Date.now() - 6 * 3_600_000);

    expect(readdirSync(folder).sort()).toEqual(['other-Ab12Cd', 'portico-nats-Qr56St', 'portico-nats-Xy34Zw', 'portico-nats-settings']);
  });
});

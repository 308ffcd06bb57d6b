/** The command that reseals authenticator secrets under the current key (tools/reseal-second-step-secrets.ts), run as built. */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import type { DataSource } from 'typeorm';
import { runBuiltTool, type ToolRun } from '#libs/testing/dist.js';
import { IdentityTestDatabase } from '../database/integration-harness-spec.js';
import { FactorSecrets } from './factor-secrets.js';

const db = new IdentityTestDatabase();
const dir = mkdtempSync(join(tmpdir(), 'portico-reseal-'));
const SECRET = Buffer.from('a secret of twenty b');

/** A key, and the file that holds it. */
function keyFile(name: string): { key: Buffer; file: string } {
  const key = randomBytes(32);
  const file = join(dir, name);
  writeFileSync(file, key.toString('base64'));
  return { key, file };
}

const previous = keyFile('previous.key');
const current = keyFile('current.key');
const unknown = keyFile('unknown.key');

beforeAll(() => db.start());
afterAll(async () => {
  await db.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Secrets sealed as a replica with only `key` (or none) seals them. */
function sealer(key: Buffer | null): FactorSecrets {
  const secrets = new FactorSecrets({} as DataSource, { MFA_SECRET_KEY_FILE: '-', MFA_PREVIOUS_SECRET_KEY_FILES: '-' }, pino({ level: 'silent' }));
  secrets.useKey(key);
  return secrets;
}

/** A person whose authenticator secret is stored as `stored`; the factor's id. */
async function factorStoredAs(stored: Buffer): Promise<string> {
  const { userId } = await db.account();
  const id = randomUUID();
  await db.dataSource.query('INSERT INTO totp_factors (id, user_id, secret, confirmed_at) VALUES ($1, $2, $3, now())', [id, userId, stored]);
  return id;
}

async function storedSecret(factorId: string): Promise<Buffer> {
  const [{ secret }] = await db.dataSource.query<Array<{ secret: Buffer }>>('SELECT secret FROM totp_factors WHERE id = $1', [factorId]);
  return secret;
}

function reseal(env: Record<string, string>, args: string[] = []): Promise<ToolRun> {
  return runBuiltTool('tools/reseal-second-step-secrets.js', args, { DATABASE_URL: db.database.url, ...env });
}

const rotated = { MFA_SECRET_KEY_FILE: current.file, MFA_PREVIOUS_SECRET_KEY_FILES: previous.file };

describe('the reseal-second-step-secrets command (rotating the key of authenticator secrets)', () => {
  it('seals under the current key what a previous key sealed and what was stored as it is, leaving what it cannot read (3)', async () => {
    const underPrevious = await factorStoredAs(sealer(previous.key).seal(SECRET));
    const plain = await factorStoredAs(sealer(null).seal(SECRET));
    const underCurrent = await factorStoredAs(sealer(current.key).seal(SECRET));
    const underUnknown = await factorStoredAs(sealer(unknown.key).seal(SECRET));
    const before = { current: await storedSecret(underCurrent), unknown: await storedSecret(underUnknown) };

    const run = await reseal(rotated);

    expect(run.status).toBe(3);
    expect(run.stdout).toContain('Resealed 2 authenticator secret(s) under the current key; 1 already were; 0 were replaced or removed meanwhile');
    expect(run.stderr).toContain('1 secret(s) could not be read with these keys');
    expect(run.stderr).toContain('1 secret(s) are not sealed under the current key at the end');
    // Only the current key is needed from now on.
    const currentOnly = sealer(current.key);
    for (const factor of [underPrevious, plain, underCurrent]) expect(currentOnly.open(await storedSecret(factor))).toEqual(SECRET);
    expect(sealer(previous.key).canOpen(await storedSecret(underPrevious))).toBe(false);
    expect(await storedSecret(underCurrent)).toEqual(before.current);
    expect(await storedSecret(underUnknown)).toEqual(before.unknown);

    // Given the key that sealed the last one too, it finishes; again, there is nothing left to do.
    const all = await reseal({ ...rotated, MFA_PREVIOUS_SECRET_KEY_FILES: `${previous.file},${unknown.file}` });
    expect(all).toMatchObject({ status: 0, stderr: '' });
    expect(all.stdout).toContain('Resealed 1 authenticator secret(s)');
    expect(all.stdout).toContain('Every secret is sealed under the current key: MFA_PREVIOUS_SECRET_KEY_FILES can be emptied');
    const again = await reseal({ MFA_SECRET_KEY_FILE: current.file });
    expect(again.status).toBe(0);
    expect(again.stdout).toContain('Resealed 0 authenticator secret(s) under the current key; 4 already were');
  });

  it('changes nothing without a current key (78), with a key file it cannot read (78, naming it) or with an argument (2)', async () => {
    const factor = await factorStoredAs(sealer(null).seal(SECRET));
    const noKey = await reseal({});
    expect(noKey.status).toBe(78);
    expect(noKey.stderr).toContain('MFA_SECRET_KEY_FILE is not set');
    const missing = await reseal({ MFA_SECRET_KEY_FILE: current.file, MFA_PREVIOUS_SECRET_KEY_FILES: join(dir, 'missing.key') });
    expect(missing.status).toBe(78);
    expect(missing.stderr).toContain('MFA_PREVIOUS_SECRET_KEY_FILES: cannot read');
    const argument = await reseal(rotated, ['--all']);
    expect(argument.status).toBe(2);
    expect(await storedSecret(factor)).toEqual(sealer(null).seal(SECRET));
  });
});

import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import type { DataSource } from 'typeorm';
import { ConfigError } from '#libs/platform/index.js';
import { FactorSecrets } from './factor-secrets.js';
import { parseSecretKey, readPreviousSecretKeyFiles, readSecretKeyFile } from './secret-key.js';

const secret = Buffer.from('0123456789abcdefghij');
const key = randomBytes(32);

const logger = pino({ level: 'silent' });

function secrets(withKey: Buffer | null, previous: Buffer[] = []): FactorSecrets {
  const box = new FactorSecrets({} as DataSource, { MFA_SECRET_KEY_FILE: '-', MFA_PREVIOUS_SECRET_KEY_FILES: '-' }, logger);
  box.useKey(withKey, previous);
  return box;
}

describe('authenticator secrets at rest', () => {
  it('are sealed under the key: neither the secret nor its bytes show, each sealing differs, and they open again', () => {
    const box = secrets(key);
    const stored = box.seal(secret);
    expect(stored[0]).toBe(1);
    expect(stored.includes(secret)).toBe(false);
    expect(box.seal(secret).equals(stored)).toBe(false);
    expect(box.open(stored)).toEqual(secret);
  });

  it('are kept as they are without a key, and still read once a key is set', () => {
    const stored = secrets(null).seal(secret);
    expect(stored).toEqual(Buffer.concat([Buffer.from([0]), secret]));
    expect(secrets(key).open(stored)).toEqual(secret);
  });

  it.each([
    ['without a key', null, 'MFA_SECRET_KEY_FILE is not set here'],
    ['under another key', randomBytes(32), 'sealed under a key neither MFA_SECRET_KEY_FILE nor MFA_PREVIOUS_SECRET_KEY_FILES holds here'],
  ])('refuse to open a sealed secret %s with 503, the why in the log only', (_case, otherKey, why) => {
    const lines: string[] = [];
    const box = new FactorSecrets(
      {} as DataSource,
      { MFA_SECRET_KEY_FILE: '-', MFA_PREVIOUS_SECRET_KEY_FILES: '-' },
      pino({ level: 'error' }, { write: (line: string) => void lines.push(line) }),
    );
    box.useKey(otherKey);
    const stored = secrets(key).seal(secret);
    expect(box.canOpen(stored)).toBe(false);
    expect(() => box.open(stored)).toThrow(
      expect.objectContaining({ code: 'SERVICE_UNAVAILABLE', message: 'Two-step sign-in cannot be checked right now; try again later' }),
    );
    expect(lines.join('')).toContain(why);
  });

  it.each([
    ['altered', (stored: Buffer) => Buffer.concat([stored.subarray(0, -1), Buffer.from([stored[stored.length - 1] ^ 1])])],
    ['cut short (no room for its tag)', (stored: Buffer) => stored.subarray(0, 20)],
    ['of no known format', () => Buffer.from([7, 1, 2])],
    ['empty', () => Buffer.alloc(0)],
  ])('refuse a stored value %s with 503, never a 500', (_case, spoil) => {
    const box = secrets(key);
    const stored = spoil(box.seal(secret));
    expect(() => box.open(stored)).toThrow(expect.objectContaining({ code: 'SERVICE_UNAVAILABLE' }));
  });

  it('are rotated: a previous key opens what it sealed and seals nothing, and resealing moves a secret to the current key', () => {
    const oldKey = randomBytes(32);
    const underOld = secrets(oldKey).seal(secret);
    const plain = secrets(null).seal(secret);
    const rotated = secrets(key, [oldKey]);
    expect(rotated.open(underOld)).toEqual(secret);
    const resealed = rotated.reseal(underOld)!;
    expect(secrets(key).open(resealed)).toEqual(secret);
    expect(secrets(oldKey).canOpen(resealed)).toBe(false);
    expect(secrets(key).open(rotated.reseal(plain)!)).toEqual(secret);
    // Nothing to do: already under the current key, no key to seal with, or unreadable here.
    expect(rotated.reseal(resealed)).toBeNull();
    expect(secrets(null, [oldKey]).reseal(underOld)).toBeNull();
    expect(secrets(key).reseal(underOld)).toBeNull();
  });

  it('say which stored values they can open here', () => {
    const plain = secrets(null).seal(secret);
    expect(secrets(key).canOpen(plain)).toBe(true);
    expect(secrets(null).canOpen(plain)).toBe(true);
    expect(secrets(key).canOpen(secrets(key).seal(secret))).toBe(true);
    expect(secrets(null).canOpen(secrets(key).seal(secret))).toBe(false);
  });
});

describe('MFA_SECRET_KEY_FILE', () => {
  const dir = mkdtempSync(join(tmpdir(), 'portico-mfa-key-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each([
    ['base64', key.toString('base64')],
    ['hex', key.toString('hex')],
    ['base64 with a trailing newline', `${key.toString('base64')}\n`],
  ])('reads a 256-bit key in %s', (_format, text) => {
    expect(parseSecretKey(text)).toEqual(key);
  });

  it.each([
    ['a 128-bit key', randomBytes(16).toString('base64')],
    ['a passphrase', 'correct horse battery staple'],
    ['nothing', ''],
  ])('refuses %s, naming the variable', (_case, text) => {
    expect(() => parseSecretKey(text)).toThrow(ConfigError);
    expect(() => parseSecretKey(text)).toThrow(/MFA_SECRET_KEY_FILE must hold 256-bit keys/);
  });

  it('is read from its file ("-": none), and a file that cannot be read is a ConfigError naming it', () => {
    const file = join(dir, 'key');
    writeFileSync(file, key.toString('base64'));
    expect(readSecretKeyFile(file)).toEqual(key);
    expect(readSecretKeyFile('-')).toBeNull();
    expect(() => readSecretKeyFile(join(dir, 'missing'))).toThrow(/MFA_SECRET_KEY_FILE: cannot read/);
  });

  it('MFA_PREVIOUS_SECRET_KEY_FILES: several files separated by commas ("-": none), each problem naming that variable', () => {
    const first = join(dir, 'previous-1');
    const second = join(dir, 'previous-2');
    const other = randomBytes(32);
    writeFileSync(first, key.toString('base64'));
    writeFileSync(second, other.toString('hex'));
    expect(readPreviousSecretKeyFiles(`${first}, ${second}`)).toEqual([key, other]);
    expect(readPreviousSecretKeyFiles('-')).toEqual([]);
    expect(() => readPreviousSecretKeyFiles(`${first},${join(dir, 'missing')}`)).toThrow(/MFA_PREVIOUS_SECRET_KEY_FILES: cannot read/);
    expect(() => readPreviousSecretKeyFiles(`${first},-`)).toThrow(/without empty entries or "-"/);
    expect(() => readPreviousSecretKeyFiles(`${first},,${second}`)).toThrow(/without empty entries or "-"/);
    writeFileSync(second, 'a passphrase');
    expect(() => readPreviousSecretKeyFiles(second)).toThrow(/MFA_PREVIOUS_SECRET_KEY_FILES must hold 256-bit keys/);
  });
});

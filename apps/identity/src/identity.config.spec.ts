import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '#libs/platform/index.js';
import { identityEnv, loadIdentityConfig } from './identity.config.js';

describe('the identity configuration', () => {
  it('defaults to 12-character passwords, 7-day activation, 1-hour reset, 1-day e-mail change and 8-hour subuser sessions', () => {
    expect(loadConfig(identityEnv, {})).toMatchObject({
      PASSWORD_MIN_LENGTH: 12,
      ACTIVATION_TOKEN_TTL_HOURS: 168,
      RESET_TOKEN_TTL_MINUTES: 60,
      EMAIL_CHANGE_TOKEN_TTL_HOURS: 24,
      EMAIL_UNDO_TOKEN_TTL_HOURS: 168,
      MFA_CHALLENGE_TTL_MINUTES: 5,
      MFA_BLOCK_AFTER_WRONG_CODES: 20,
      MFA_ISSUER: 'Portico',
      SUBUSER_SESSION_TTL_HOURS: 8,
      ACCESS_TOKEN_TTL_SECONDS: 900,
      NATS_STREAM_REPLICAS: 1,
    });
  });

  it.each([
    ['7', false],
    ['8', true],
    ['64', true],
    ['129', false],
  ])('PASSWORD_MIN_LENGTH=%s is %s (never below 8, P1)', (value, accepted) => {
    const load = () => loadConfig(identityEnv, { PASSWORD_MIN_LENGTH: value });
    if (accepted) expect(load().PASSWORD_MIN_LENGTH).toBe(Number(value));
    else expect(load).toThrow('PASSWORD_MIN_LENGTH');
  });

  it.each([
    ['EMAIL_CHANGE_TOKEN_TTL_HOURS', '0', false],
    ['EMAIL_CHANGE_TOKEN_TTL_HOURS', '1', true],
    ['EMAIL_CHANGE_TOKEN_TTL_HOURS', '168', true],
    ['EMAIL_CHANGE_TOKEN_TTL_HOURS', '169', false],
    ['EMAIL_UNDO_TOKEN_TTL_HOURS', '-1', false],
    ['EMAIL_UNDO_TOKEN_TTL_HOURS', '0', true],
    ['EMAIL_UNDO_TOKEN_TTL_HOURS', '720', true],
    ['EMAIL_UNDO_TOKEN_TTL_HOURS', '721', false],
    ['MFA_BLOCK_AFTER_WRONG_CODES', '4', false],
    ['MFA_BLOCK_AFTER_WRONG_CODES', '5', true],
    ['MFA_BLOCK_AFTER_WRONG_CODES', '1000', true],
    ['MFA_BLOCK_AFTER_WRONG_CODES', '1001', false],
    ['MFA_CHALLENGE_TTL_MINUTES', '0', false],
    ['MFA_CHALLENGE_TTL_MINUTES', '1', true],
    ['MFA_CHALLENGE_TTL_MINUTES', '30', true],
    ['MFA_CHALLENGE_TTL_MINUTES', '31', false],
  ] as const)(
    '%s=%s is %s (a confirmation link lives an hour to a week; an undo link up to 30 days, 0 for none; a sign-in waits for its code 1 to 30 minutes; a second step blocks after 5 to 1000 wrong codes in 30 days)',
    (name, value, accepted) => {
      const load = () => loadConfig(identityEnv, { [name]: value });
      if (accepted) expect(load()[name]).toBe(Number(value));
      else expect(load).toThrow(name);
    },
  );

  it.each([
    ['1', '24', true],
    ['1', '25', false],
    ['30', '720', true],
    ['7', '169', false],
  ] as const)(
    'REFRESH_TOKEN_TTL_DAYS=%s with SUBUSER_SESSION_TTL_HOURS=%s is %s (a subuser session never outlives a user session, S5)',
    (days, hours, accepted) => {
      const load = () => loadIdentityConfig({ REFRESH_TOKEN_TTL_DAYS: days, SUBUSER_SESSION_TTL_HOURS: hours });
      if (accepted) expect(load()).toMatchObject({ REFRESH_TOKEN_TTL_DAYS: Number(days), SUBUSER_SESSION_TTL_HOURS: Number(hours) });
      else expect(load).toThrow(/SUBUSER_SESSION_TTL_HOURS.*REFRESH_TOKEN_TTL_DAYS/);
    },
  );

  it('stops at start on an MFA_SECRET_KEY_FILE it cannot use, naming it (the default "-" keeps secrets as they are)', () => {
    expect(loadIdentityConfig({}).MFA_SECRET_KEY_FILE).toBe('-');
    expect(() => loadIdentityConfig({ MFA_SECRET_KEY_FILE: '/nonexistent/portico-mfa.key' })).toThrow(/MFA_SECRET_KEY_FILE: cannot read/);
  });

  describe('JWT_PRIVATE_KEY_FILE', () => {
    const folder = mkdtempSync(join(tmpdir(), 'portico-jwt-'));
    afterAll(() => rmSync(folder, { recursive: true, force: true }));
    /** A file holding `key` in PEM (PKCS#8). */
    const keyFile = (name: string, key: { export(options: { format: 'pem'; type: 'pkcs8' }): string | Buffer }) => {
      const file = join(folder, name);
      writeFileSync(file, key.export({ format: 'pem', type: 'pkcs8' }));
      return file;
    };

    it('takes an EC key on P-256 (access tokens are ES256)', () => {
      const file = keyFile('p256.pem', generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey);
      expect(loadIdentityConfig({ JWT_PRIVATE_KEY_FILE: file }).JWT_PRIVATE_KEY_FILE).toBe(file);
    });

    it.each([
      ['an Ed25519 key', () => generateKeyPairSync('ed25519').privateKey, /holds a ed25519 key/],
      ['a P-384 key', () => generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey, /holds a secp384r1 EC key/],
      ['an RSA key', () => generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey, /holds a rsa key/],
    ])('stops at start on %s, naming the variable and the key it needs (it started, and answered every sign-in 500)', (name, key, problem) => {
      const file = keyFile(`${name.replace(/\W/g, '')}.pem`, key());
      expect(() => loadIdentityConfig({ JWT_PRIVATE_KEY_FILE: file })).toThrow(/JWT_PRIVATE_KEY_FILE: .* must be an EC key on P-256/);
      expect(() => loadIdentityConfig({ JWT_PRIVATE_KEY_FILE: file })).toThrow(problem);
    });

    it('stops at start on a file it cannot read, or that holds no private key', () => {
      const notAKey = join(folder, 'not-a-key.pem');
      writeFileSync(notAKey, 'hello');
      for (const file of ['/nonexistent/portico-jwt.pem', notAKey]) {
        expect(() => loadIdentityConfig({ JWT_PRIVATE_KEY_FILE: file })).toThrow(/JWT_PRIVATE_KEY_FILE: .* is not a readable private key in PEM/);
      }
    });
  });

  it('stops at start on an MFA_PREVIOUS_SECRET_KEY_FILES it cannot use, naming it (the default "-": no previous key)', () => {
    expect(loadIdentityConfig({}).MFA_PREVIOUS_SECRET_KEY_FILES).toBe('-');
    expect(() => loadIdentityConfig({ MFA_PREVIOUS_SECRET_KEY_FILES: '/nonexistent/portico-mfa-old.key' })).toThrow(
      /MFA_PREVIOUS_SECRET_KEY_FILES: cannot read/,
    );
  });
});

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeNkeyCreds } from '#libs/testing/nats-creds.js';
import { boolean, commonEnv, ConfigError, integer, list, loadConfig, oneOf, redactUrlCredentials, text, url } from './config.js';

const schema = {
  DATABASE_URL: url('db', ['postgres']),
  PORT: integer('port', 1, 65535, 3000),
  ENABLED: boolean('flag', true),
  LEVEL: oneOf('level', ['info', 'debug'] as const, 'info'),
  NAME: text('name'),
  ORIGINS: list('origins'),
};

describe('loadConfig', () => {
  it('reads values and applies defaults', () => {
    const config = loadConfig(schema, { DATABASE_URL: 'postgres://x@h/db', NAME: 'portico', ORIGINS: 'a, b,,c' });
    expect(config).toEqual({ DATABASE_URL: 'postgres://x@h/db', PORT: 3000, ENABLED: true, LEVEL: 'info', NAME: 'portico', ORIGINS: ['a', 'b', 'c'] });
  });

  it('reports every problem at once, naming each variable', () => {
    let error: unknown;
    try {
      loadConfig(schema, { DATABASE_URL: 'mysql://h/db', PORT: '70000', ENABLED: 'maybe', LEVEL: 'loud' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    for (const name of ['DATABASE_URL', 'PORT', 'ENABLED', 'LEVEL', 'NAME']) expect(problems).toContain(name);
    expect((error as ConfigError).problems).toHaveLength(5);
  });

  it.each([
    ['12x', 'not a whole number'],
    ['0', 'outside'],
  ])('refuses the integer %s', (raw, message) => {
    expect(() => integer('n', 1, 10).parse(raw)).toThrow(message);
  });

  it('treats an empty variable as unset', () => {
    expect(loadConfig({ PORT: integer('port', 1, 10, 5) }, { PORT: '' })).toEqual({ PORT: 5 });
  });

  it.each([
    ['a fragment in the password', 'postgres://portico:s3cr#t/x@db:5432/portico', 's3cr#t/x'],
    ['a colon in the password and a bad port', 'postgres://portico:pa:ss@db:54x/portico', 'pa:ss'],
    ['a port out of range', 'postgres://portico:s3cret@db:99999/portico', 's3cret'],
  ])('never prints the password of a malformed URL (%s)', (_label, raw, password) => {
    let error: unknown;
    try {
      loadConfig(schema, { DATABASE_URL: raw, NAME: 'portico' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const { message, problems } = error as ConfigError;
    expect(problems).toEqual([expect.stringMatching(/^DATABASE_URL: "postgres:\/\/\*\*\*@db:[^"]*\/portico" is not a URL$/)]);
    for (const printed of [message, ...problems]) expect(printed).not.toContain(password);
  });

  it('redacts URL credentials in the problems a service reports itself', () => {
    const error = new ConfigError(['NATS_URL: "nats://relay:hunter2@nats-a:4222,nats://relay:hunter2@nats-b:4222" is refused', 'PORT: 0 is outside 1..10']);
    expect(error.problems).toEqual(['NATS_URL: "nats://***@nats-b:4222" is refused', 'PORT: 0 is outside 1..10']);
    expect(error.message).not.toContain('hunter2');
  });
});

describe('redactUrlCredentials', () => {
  it.each([
    ['postgres://portico:p@ss word@db/portico', 'postgres://***@db/portico'],
    ['smtp://mailer@smtp.example.com:587', 'smtp://***@smtp.example.com:587'],
    ['https://panel.example.com/app/', 'https://panel.example.com/app/'],
    ['noreply@example.com', 'noreply@example.com'],
    ['line one postgres://a:b@h/db\nnoreply@example.com', 'line one postgres://***@h/db\nnoreply@example.com'],
  ])('%s -> %s', (raw, redacted) => {
    expect(redactUrlCredentials(raw)).toBe(redacted);
  });
});

describe('NATS authentication variables', () => {
  const dir = mkdtempSync(join(tmpdir(), 'portico-config-'));
  const { credsFile } = writeNkeyCreds(join(dir, 'service.creds'));
  const garbage = join(dir, 'garbage.creds');
  writeFileSync(garbage, 'user=portico\npassword=secret\n');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function problemsOf(env: NodeJS.ProcessEnv): string[] {
    try {
      loadConfig(commonEnv, env);
      return [];
    } catch (error) {
      return (error as ConfigError).problems;
    }
  }

  it('takes a readable credentials file', () => {
    expect(loadConfig(commonEnv, { NATS_CREDS_FILE: credsFile }).NATS_CREDS_FILE).toBe(credsFile);
  });

  it('takes neither, or user and password alone', () => {
    expect(problemsOf({})).toEqual([]);
    expect(problemsOf({ NATS_USER: 'gateway', NATS_PASSWORD: 'secret' })).toEqual([]);
  });

  it('refuses a credentials file that is missing', () => {
    expect(problemsOf({ NATS_CREDS_FILE: join(dir, 'missing.creds') })).toEqual([`NATS_CREDS_FILE: cannot read "${join(dir, 'missing.creds')}" (ENOENT)`]);
  });

  it('refuses a file that holds no JWT and NKey seed, without quoting it', () => {
    const [problem] = problemsOf({ NATS_CREDS_FILE: garbage });
    expect(problem).toMatch(/^NATS_CREDS_FILE: ".*garbage.creds" is not a NATS credentials file/);
    expect(problem).not.toContain('secret');
  });

  it.each([
    ['a user', { NATS_USER: 'gateway' }],
    ['a password', { NATS_PASSWORD: 'secret' }],
  ])('refuses a credentials file together with %s', (_label, userOrPassword) => {
    expect(problemsOf({ NATS_CREDS_FILE: credsFile, ...userOrPassword })).toEqual([
      'NATS_CREDS_FILE: set either a credentials file or NATS_USER/NATS_PASSWORD, not both',
    ]);
  });
});

import { boolean, ConfigError, integer, list, loadConfig, oneOf, text, url } from './config.js';

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
});

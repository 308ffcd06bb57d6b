import { ConfigError } from '#libs/platform/index.js';
import { BadInput, CommonExit, runOperatorCommand, type CommandRequest, type OperatorCommand } from './command-line.js';

type Request = CommandRequest & { help: boolean; what?: string };

/** A command whose parts do what each test says; it records what its work was given. */
function commandWith(parts: Partial<OperatorCommand<Request, { key: string }>>): OperatorCommand<Request, { key: string }> & { ran: unknown[] } {
  const ran: unknown[] = [];
  return {
    name: 'demo',
    usage: 'Usage: demo --what <thing>',
    nothingDone: 'nothing was changed',
    parse: (argv) => (argv[0] === '--help' ? { help: true } : { help: false, what: argv[0] }),
    configure: (env) => ({ key: env.KEY ?? 'none' }),
    run: (request, config) => {
      ran.push({ request, config });
      return Promise.resolve(5);
    },
    ...parts,
    ran,
  };
}

async function run(command: OperatorCommand<Request, { key: string }>, argv: string[], env: NodeJS.ProcessEnv = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const status = await runOperatorCommand(command, argv, env, { out: (line) => out.push(line), err: (line) => err.push(line) });
  return { status, out, err };
}

describe('an operator command, as every one runs', () => {
  it('does its work with the request and the configuration, and answers its status', async () => {
    const command = commandWith({});
    await expect(run(command, ['it'], { KEY: 'k' })).resolves.toEqual({ status: 5, out: [], err: [] });
    expect(command.ran).toEqual([{ request: { help: false, what: 'it' }, config: { key: 'k' } }]);
  });

  it('prints its usage for --help, without reading the environment or doing anything', async () => {
    const command = commandWith({
      configure: () => {
        throw new Error('read the environment');
      },
    });
    await expect(run(command, ['--help'])).resolves.toEqual({ status: CommonExit.Ok, out: ['Usage: demo --what <thing>'], err: [] });
    expect(command.ran).toEqual([]);
  });

  it('lists every problem of refused arguments, says what did not happen (2), and does nothing', async () => {
    const command = commandWith({
      parse: () => {
        throw new BadInput(['--what: missing', '--when: unknown option']);
      },
    });
    const { status, out, err } = await run(command, ['--when']);
    expect({ status, out }).toEqual({ status: CommonExit.BadInput, out: [] });
    expect(err.join('\n')).toBe('demo: bad input, nothing was changed:\n  - --what: missing\n  - --when: unknown option\nRun with --help for the options.');
    expect(command.ran).toEqual([]);
  });

  it('names a bad environment (78) and does nothing', async () => {
    const command = commandWith({
      configure: () => {
        throw new ConfigError(['KEY: required']);
      },
    });
    await expect(run(command, ['it'])).resolves.toEqual({
      status: CommonExit.BadEnvironment,
      out: [],
      err: ['demo: Invalid configuration:\n  - KEY: required'],
    });
    expect(command.ran).toEqual([]);
  });

  it.each([
    ['arguments', { parse: () => Promise.reject(new Error('parser broke\n    at parse (x.js:1)')) }],
    [
      'environment',
      {
        configure: () => {
          throw new Error('parser broke\n    at parse (x.js:1)');
        },
      },
    ],
    ['work', { run: () => Promise.reject(new Error('parser broke\n    at parse (x.js:1)')) }],
  ])('turns what it did not foresee in its %s into one line and status 1, never a stack trace', async (_part, parts) => {
    await expect(run(commandWith(parts), ['it'])).resolves.toEqual({ status: CommonExit.Failed, out: [], err: ['demo failed: parser broke'] });
  });
});

import { BadInput } from '../command-line.js';
import { parseSecondStepResetArguments } from './arguments.js';

/** The problems the command line gives, or the request it makes. */
function parsed(argv: string[]): unknown {
  try {
    return parseSecondStepResetArguments(argv);
  } catch (error) {
    if (error instanceof BadInput) return error.problems;
    throw error;
  }
}

describe('the second-step-reset command line', () => {
  it('names a person by e-mail, or a subuser by account and login, with a reason (trimmed)', () => {
    expect(parsed(['--email', ' ada@example.test ', '--reason', ' ticket 12 '])).toEqual({
      help: false,
      target: { email: 'ada@example.test' },
      reason: 'ticket 12',
    });
    expect(parsed(['--account', 'acme', '--login', 'desk-1', '--reason', 'x'])).toEqual({
      help: false,
      target: { account: 'acme', login: 'desk-1' },
      reason: 'x',
    });
    expect(parsed(['-h'])).toEqual({ help: true });
  });

  it.each([
    [['--reason', 'x'], '--email (a person) or --account and --login (a subuser) is required'],
    [['--email', 'a@example.test'], '--reason is required: why the second step is turned off, for the audit trail'],
    [['--email', 'a@example.test', '--reason', '  '], '--reason is required: why the second step is turned off, for the audit trail'],
    [
      ['--email', 'a@example.test', '--account', 'acme', '--login', 'x', '--reason', 'x'],
      'give either --email (a person) or --account and --login (a subuser), not both',
    ],
    [['--account', 'acme', '--reason', 'x'], 'a subuser is named by both --account (its account slug) and --login'],
    [['--email', ' ', '--reason', 'x'], '--email must not be empty'],
    [['--email', 'a@example.test', '--reason', 'x'.repeat(501)], '--reason must be at most 500 characters'],
    [['--email'], "Option '--email <value>' argument missing"],
    [['--email', 'a@example.test', 'extra'], "Unexpected argument 'extra'"],
  ])('refuses %j: %s', (argv, problem) => {
    expect(parsed(argv)).toEqual([expect.stringContaining(problem)]);
  });

  it('names every problem at once', () => {
    expect(parsed([])).toEqual(['--email (a person) or --account and --login (a subuser) is required', expect.stringContaining('--reason is required')]);
  });
});

import { QueryFailedError } from 'typeorm';
import { describeFailure } from '../command-line.js';
import { BootstrapExit, runBootstrapCommand } from './command.js';

describe('the bootstrap command', () => {
  it('turns a failure it did not foresee into one line and status 1, without a stack trace', async () => {
    const err: string[] = [];
    const output = {
      out: () => {
        throw new Error('stdout is closed\n    at Socket.write (node:net:1)');
      },
      err: (line: string) => err.push(line),
    };
    await expect(runBootstrapCommand(['--help'], {}, output)).resolves.toBe(BootstrapExit.Failed);
    expect(err).toEqual(['bootstrap failed: stdout is closed']);
  });

  it.each([
    ['42P01', 'relation "identity.accounts" does not exist'],
    ['42703', 'column "ownerVersion" does not exist'],
  ])('asks whether the database is migrated on PostgreSQL error %s', (code, message) => {
    const error = new QueryFailedError('SELECT 1', [], Object.assign(new Error(message), { code }));
    expect(describeFailure(error)).toBe(`${message}: is the database migrated? (npm run migrate, or the chart's migration Job)`);
  });

  it('does not blame migrations for other database errors', () => {
    const error = new QueryFailedError('SELECT 1', [], Object.assign(new Error('deadlock detected'), { code: '40P01' }));
    expect(describeFailure(error)).toBe('deadlock detected');
  });
});

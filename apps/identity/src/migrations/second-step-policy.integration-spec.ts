import type { QueryRunner } from 'typeorm';
import { IdentityTestDatabase } from '../database/integration-harness-spec.js';
import { SecondStepPolicy1733900000000 } from './1733900000000-second-step-policy.js';

const db = new IdentityTestDatabase();

beforeAll(() => db.start());
afterAll(() => db.stop());

const migration = new SecondStepPolicy1733900000000();

async function run(step: (runner: QueryRunner) => Promise<void>): Promise<void> {
  const runner = db.dataSource.createQueryRunner();
  try {
    await runner.startTransaction();
    await step(runner);
    await runner.commitTransaction();
  } finally {
    await runner.release();
  }
}

describe('migration 1733900000000: an account may require two-step sign-in', () => {
  it('gives accounts a requirement and sessions a passed second step, both off for rows already there', async () => {
    const { accountId } = await db.account();
    const [{ second_step_required }] = await db.dataSource.query<Array<{ second_step_required: boolean }>>(
      'SELECT second_step_required FROM accounts WHERE id = $1',
      [accountId],
    );
    expect(second_step_required).toBe(false);
    expect(await db.columnsOf('sessions')).toContain('second_step_passed');
    expect(await db.hasIndex('accounts_second_step_required')).toBe(true);
  });

  it('goes down, taking both columns and the index, and up again', async () => {
    await run((runner) => migration.down(runner));
    expect(await db.columnsOf('accounts')).not.toContain('second_step_required');
    expect(await db.columnsOf('sessions')).not.toContain('second_step_passed');
    expect(await db.hasIndex('accounts_second_step_required')).toBe(false);
    await run((runner) => migration.up(runner));
    expect(await db.columnsOf('accounts')).toContain('second_step_required');
    expect(await db.columnsOf('sessions')).toContain('second_step_passed');
  });
});

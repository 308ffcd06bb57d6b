import { randomUUID } from 'node:crypto';
import type { QueryRunner } from 'typeorm';
import { IdentityTestDatabase } from '../database/integration-harness-spec.js';
import { TwoStepSignIn1733700000000 } from './1733700000000-two-step-sign-in.js';
import { SignInChallengeExpiry1733800000000 } from './1733800000000-sign-in-challenge-expiry.js';

const db = new IdentityTestDatabase();

beforeAll(() => db.start());
afterAll(() => db.stop());

/** Runs `step` on a runner of its own, in a transaction when `inTransaction` (SET LOCAL needs one), as the migration tool does. */
async function run(step: (runner: QueryRunner) => Promise<void>, inTransaction: boolean): Promise<void> {
  const runner = db.dataSource.createQueryRunner();
  try {
    if (inTransaction) await runner.startTransaction();
    await step(runner);
    if (inTransaction) await runner.commitTransaction();
  } finally {
    await runner.release();
  }
}

const twoStep = new TwoStepSignIn1733700000000();
const expiryIndex = new SignInChallengeExpiry1733800000000();

/** Stores a `sign-in` challenge for a new person; its id. */
async function challenge(): Promise<string> {
  const { userId } = await db.account();
  const id = randomUUID();
  await db.dataSource.query(
    `INSERT INTO action_tokens (id, token_hash, purpose, user_id, expires_at) VALUES ($1, $2, 'sign-in', $3, now() + interval '5 minutes')`,
    [id, randomUUID(), userId],
  );
  return id;
}

describe('migrations 1733700000000 and 1733800000000: two-step sign-in', () => {
  it('give users and subusers a second_step flag (off), take sign-in challenges, and index their expiry', async () => {
    expect(await db.columnsOf('users')).toContain('second_step');
    expect(await db.columnsOf('subusers')).toContain('second_step');
    const { userId } = await db.account();
    const [{ second_step }] = await db.dataSource.query<Array<{ second_step: boolean }>>('SELECT second_step FROM users WHERE id = $1', [userId]);
    expect(second_step).toBe(false);
    await challenge();
    expect(await db.hasIndex('action_tokens_sign_in_expiry')).toBe(true);
    expect(expiryIndex.transaction).toBe(false);
  });

  it('go down, taking the challenges, factors and flags with them, and up again', async () => {
    await challenge();
    await run((runner) => expiryIndex.down(runner), false);
    await run((runner) => twoStep.down(runner), true);
    expect(await db.columnsOf('users')).not.toContain('second_step');
    expect(await db.columnsOf('totp_factors')).toEqual([]);
    const [{ count }] = await db.dataSource.query<Array<{ count: number }>>(`SELECT count(*)::int AS count FROM action_tokens WHERE purpose = 'sign-in'`);
    expect(count).toBe(0);
    await expect(challenge()).rejects.toThrow(/action_tokens_purpose_check/);

    await run((runner) => twoStep.up(runner), true);
    await run((runner) => expiryIndex.up(runner), false);
    await challenge();
    expect(await db.hasIndex('action_tokens_sign_in_expiry')).toBe(true);
  });
});

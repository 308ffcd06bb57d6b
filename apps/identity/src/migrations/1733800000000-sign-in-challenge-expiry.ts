import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Lets housekeeping find expired sign-in challenges (a day after their few minutes) without reading
 * every link token. Built CONCURRENTLY (outside a transaction), so that resets, invitations and
 * sign-ins go on writing `action_tokens` meanwhile; an invalid index left by a run that stopped
 * half-way is dropped and built again.
 */
export class SignInChallengeExpiry1733800000000 implements MigrationInterface {
  name = 'SignInChallengeExpiry1733800000000';
  transaction = false;

  async up(runner: QueryRunner): Promise<void> {
    await runner.query('DROP INDEX CONCURRENTLY IF EXISTS action_tokens_sign_in_expiry');
    await runner.query(`CREATE INDEX CONCURRENTLY action_tokens_sign_in_expiry ON action_tokens (expires_at) WHERE purpose = 'sign-in'`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP INDEX CONCURRENTLY IF EXISTS action_tokens_sign_in_expiry');
  }
}

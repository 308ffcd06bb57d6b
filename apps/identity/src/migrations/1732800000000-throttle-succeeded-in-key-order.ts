import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `throttle_succeeded` locks its rows in key order (byte order, as the service sorts the keys it
 * hands `throttle_reserve`), as `throttle_reserve` does. Its single UPDATE
 * locked them in the order its scan met them (table order in a small table), so a sign-in
 * clearing its counters and another of the same login from the same address charging them could
 * each hold one row and wait for the other's: PostgreSQL then ended one with "deadlock detected"
 * (a 500). `throttle.integration-spec.ts` runs them side by side.
 */
export class ThrottleSucceededInKeyOrder1732800000000 implements MigrationInterface {
  name = 'ThrottleSucceededInKeyOrder1732800000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE OR REPLACE FUNCTION identity.throttle_succeeded(identifiers text[], addresses text[]) RETURNS void LANGUAGE sql AS $$
        UPDATE identity.throttle_counters AS counter
           SET failures = CASE WHEN counter.key = ANY(identifiers) THEN 0 ELSE greatest(counter.failures - 1, 0) END,
               lockouts = CASE WHEN counter.key = ANY(identifiers) THEN 0 ELSE counter.lockouts END,
               locked_until = CASE WHEN counter.key = ANY(identifiers) THEN NULL ELSE counter.locked_until END,
               window_count = greatest(counter.window_count - 1, 0)
          FROM (SELECT key FROM identity.throttle_counters WHERE key = ANY(identifiers || addresses) ORDER BY key COLLATE "C" FOR UPDATE) AS locked
         WHERE counter.key = locked.key
      $$;
    `);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE OR REPLACE FUNCTION identity.throttle_succeeded(identifiers text[], addresses text[]) RETURNS void LANGUAGE sql AS $$
        UPDATE identity.throttle_counters
           SET failures = CASE WHEN key = ANY(identifiers) THEN 0 ELSE greatest(failures - 1, 0) END,
               lockouts = CASE WHEN key = ANY(identifiers) THEN 0 ELSE lockouts END,
               locked_until = CASE WHEN key = ANY(identifiers) THEN NULL ELSE locked_until END,
               window_count = greatest(window_count - 1, 0)
         WHERE key = ANY(identifiers || addresses)
      $$;
    `);
  }
}

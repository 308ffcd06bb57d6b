import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Tells access, once, of every member and subuser inactive when this runs: per account, one
 * `identity.principal.activity-changed` event (active: false) per 500 of them, in the outbox
 * (access applies an event as one change of the account: one reload per event on every replica,
 * not one per principal). From this release on identity writes that event with every change. Their
 * time is this migration's, so any later change of the same principal wins over it.
 *
 * It runs before the rollout, while the previous release still serves: that release writes no
 * event when it reactivates someone. So the principals announced are also kept in
 * `activity_announced`, which the new release sweeps (principals/announced-activity.sweep.ts):
 * whoever is active again gets an event telling so. A later release drops the table.
 */
export class AnnounceInactivePrincipals1733200000000 implements MigrationInterface {
  name = 'AnnounceInactivePrincipals1733200000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE activity_announced (
        account_id uuid NOT NULL,
        principal_type text NOT NULL CHECK (principal_type IN ('user', 'subuser')),
        principal_id uuid NOT NULL,
        PRIMARY KEY (account_id, principal_type, principal_id)
      )
    `);
    await runner.query(`
      INSERT INTO activity_announced (account_id, principal_type, principal_id)
      SELECT account_id, 'user', user_id FROM memberships WHERE NOT active
      UNION ALL
      SELECT account_id, 'subuser', id FROM subusers WHERE NOT active
    `);
    // At most 500 changes an event: about 65 kB, well under JetStream's default max payload (1 MB).
    await runner.query(`
      WITH now_iso AS (
        SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS at
      ), chunked AS (
        SELECT account_id, principal_type, principal_id,
               (row_number() OVER (PARTITION BY account_id ORDER BY principal_type, principal_id) - 1) / 500 AS chunk
          FROM activity_announced
      ), events AS (
        SELECT gen_random_uuid() AS id, c.account_id, n.at,
               jsonb_agg(jsonb_build_object('principalType', c.principal_type, 'principalId', c.principal_id, 'active', false, 'changedAt', n.at)
                 ORDER BY c.principal_type, c.principal_id) AS changes
          FROM chunked c CROSS JOIN now_iso n
         GROUP BY c.account_id, c.chunk, n.at
      )
      INSERT INTO outbox (id, type, account_id, payload)
      SELECT id, 'identity.principal.activity-changed', account_id,
             jsonb_build_object('id', id, 'type', 'identity.principal.activity-changed', 'occurredAt', at, 'accountId', account_id,
               'data', jsonb_build_object('accountId', account_id, 'changes', changes))
        FROM events
    `);
  }

  async down(runner: QueryRunner): Promise<void> {
    // The events may be published and applied already: there is nothing to take back but the table.
    await runner.query(`DROP TABLE activity_announced`);
  }
}

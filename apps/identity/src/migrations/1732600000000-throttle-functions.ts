import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The throttling rule of credentials/lockout-schedule.ts as two PostgreSQL functions, so that a
 * sign-in charges its counters in one round trip (`throttle.integration-spec.ts` checks that both
 * agree on random sequences). Rows are locked in key order: parallel attempts queue, never deadlock.
 */
export class ThrottleFunctions1732600000000 implements MigrationInterface {
  name = 'ThrottleFunctions1732600000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      -- Charges one attempt to every key, or to none when one of them refuses. Returns 0 when
      -- allowed, else the milliseconds to wait. Policies are given per key, in the same order.
      CREATE FUNCTION identity.throttle_reserve(
        keys text[], thresholds int[], base_ms bigint[], max_ms bigint[], per_window int[], window_ms bigint[], forget_ms bigint[], at timestamptz
      ) RETURNS bigint LANGUAGE plpgsql AS $$
      DECLARE
        i int;
        c identity.throttle_counters;
        next_failures int[] := '{}'; next_lockouts int[] := '{}'; next_locked timestamptz[] := '{}';
        next_starts timestamptz[] := '{}'; next_counts int[] := '{}';
        f int; l int; lu timestamptz; ws timestamptz; wc int;
        wait bigint := 0;
      BEGIN
        INSERT INTO identity.throttle_counters (key, window_start, last_at)
          SELECT k, at, at FROM unnest(keys) AS k ORDER BY k ON CONFLICT (key) DO NOTHING;
        FOR i IN 1 .. array_length(keys, 1) LOOP
          SELECT * INTO c FROM identity.throttle_counters WHERE key = keys[i] FOR UPDATE;
          IF c.locked_until IS NOT NULL AND c.locked_until > at THEN
            wait := greatest(wait, (extract(epoch FROM c.locked_until - at) * 1000)::bigint);
            CONTINUE;
          END IF;
          f := c.failures; l := c.lockouts; ws := c.window_start; wc := c.window_count; lu := NULL;
          IF at - c.last_at >= forget_ms[i] * interval '1 millisecond' THEN f := 0; l := 0; END IF;
          IF at - ws >= window_ms[i] * interval '1 millisecond' THEN ws := at; wc := 0; END IF;
          IF wc >= per_window[i] THEN
            wait := greatest(wait, (extract(epoch FROM ws + window_ms[i] * interval '1 millisecond' - at) * 1000)::bigint);
            CONTINUE;
          END IF;
          f := f + 1; wc := wc + 1;
          IF f % thresholds[i] = 0 THEN
            l := l + 1;
            lu := at + least(base_ms[i] * power(2, greatest(0, l - 1)), max_ms[i]) * interval '1 millisecond';
          END IF;
          next_failures[i] := f; next_lockouts[i] := l; next_locked[i] := lu; next_starts[i] := ws; next_counts[i] := wc;
        END LOOP;
        IF wait > 0 THEN RETURN wait; END IF;
        FOR i IN 1 .. array_length(keys, 1) LOOP
          UPDATE identity.throttle_counters
             SET failures = next_failures[i], lockouts = next_lockouts[i], locked_until = next_locked[i],
                 window_start = next_starts[i], window_count = next_counts[i], last_at = at
           WHERE key = keys[i];
        END LOOP;
        RETURN 0;
      END $$;

      -- After an attempt turned out right: identifiers start afresh, addresses take the attempt back.
      CREATE FUNCTION identity.throttle_succeeded(identifiers text[], addresses text[]) RETURNS void LANGUAGE sql AS $$
        UPDATE identity.throttle_counters
           SET failures = CASE WHEN key = ANY(identifiers) THEN 0 ELSE greatest(failures - 1, 0) END,
               lockouts = CASE WHEN key = ANY(identifiers) THEN 0 ELSE lockouts END,
               locked_until = CASE WHEN key = ANY(identifiers) THEN NULL ELSE locked_until END,
               window_count = greatest(window_count - 1, 0)
         WHERE key = ANY(identifiers || addresses)
      $$;
    `);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`
      DROP FUNCTION identity.throttle_succeeded(text[], text[]);
      DROP FUNCTION identity.throttle_reserve(text[], int[], bigint[], bigint[], int[], bigint[], bigint[], timestamptz);
    `);
  }
}

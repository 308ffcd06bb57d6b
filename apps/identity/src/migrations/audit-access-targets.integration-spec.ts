import { lockTimeoutAfter, migrateWhileTableBusy } from '#libs/testing/busy-table.js';
import { IdentityTestDatabase } from '../database/integration-harness-spec.js';
import { AuditAccessTargets1733400000000 } from './1733400000000-audit-access-targets.js';

const db = new IdentityTestDatabase();
const migration = new AuditAccessTargets1733400000000();

beforeAll(() => db.start());
afterAll(() => db.stop());

describe('migration 1733400000000: audit events about roles and applications', () => {
  it('gives up on a busy audit_events table (lock_timeout, for the Job to retry) rather than queue every sign-in behind its lock', async () => {
    for (const step of ['down', 'up'] as const) {
      // Under the 30 s statement timeout of this connection: waiting for the lock would fail with 57014 instead.
      await expect(migrateWhileTableBusy(db.dataSource, db.database.url, 'identity.audit_events', migration, step)).resolves.toMatchObject({ code: '55P03' });
    }
  });

  it('runs on a quiet table, and its lock timeout ends with its transaction', async () => {
    expect(await lockTimeoutAfter(db.dataSource, migration, 'down')).toBe('0');
    expect(await lockTimeoutAfter(db.dataSource, migration, 'up')).toBe('0');
    const [check] = await db.dataSource.query(
      `SELECT pg_get_constraintdef(oid) AS definition FROM pg_constraint WHERE conname = 'audit_events_target_type_check'`,
    );
    expect(check.definition).toContain('application');
  });
});

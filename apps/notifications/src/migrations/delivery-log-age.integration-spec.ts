import { migrateOutsideTransaction } from '#libs/testing/migration-runner.js';
import { NotificationsTestDatabase } from '../database-harness-spec.js';
import { DeliveryLogAge1734700000000 } from './1734700000000-delivery-log-age.js';

const db = new NotificationsTestDatabase();
const migration = new DeliveryLogAge1734700000000();

/** The index by age of the delivery log, if any. */
const ageIndex = () => db.index('deliveries_by_age');

beforeAll(() => db.start());
afterAll(() => db.stop());

describe('migration 1734700000000: the delivery log by age', () => {
  it('is applied by a fresh migration: the delivery log is indexed by the time each mail was recorded', async () => {
    expect(await ageIndex()).toEqual({ valid: true, definition: expect.stringMatching(/ON notifications\.deliveries USING btree \(created_at\)$/) as unknown });
  });

  it('runs outside a transaction (its index is built CONCURRENTLY, while mails go on being recorded)', () => {
    expect(migration.transaction).toBe(false);
  });

  it('runs again after a run that stopped half-way, leaving a valid index', async () => {
    await migrateOutsideTransaction(db.dataSource, migration, 'down');
    await db.dataSource.query(`INSERT INTO deliveries (id, event_id, event_type, recipient, template, locale, status, attempts)
      VALUES (gen_random_uuid(), gen_random_uuid(), 'identity.user.invited', 'ada@example.com', 'activation', 'en', 'sent', 1)`);
    // A build cancelled half-way leaves an invalid index behind: this one fails on the row whose locale is not a number.
    await expect(db.dataSource.query('CREATE INDEX CONCURRENTLY deliveries_by_age ON deliveries ((locale::integer))')).rejects.toThrow();
    expect(await ageIndex()).toEqual(expect.objectContaining({ valid: false }));
    await migrateOutsideTransaction(db.dataSource, migration, 'up');
    expect(await ageIndex()).toEqual({ valid: true, definition: expect.stringContaining('(created_at)') as unknown });
  });

  it('goes down (the index dropped) and up again', async () => {
    await migrateOutsideTransaction(db.dataSource, migration, 'down');
    expect(await ageIndex()).toBeUndefined();
    await migrateOutsideTransaction(db.dataSource, migration, 'up');
    expect(await ageIndex()).toEqual(expect.objectContaining({ valid: true }));
  });
});

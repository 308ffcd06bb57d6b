import { migrateOutsideTransaction } from '#libs/testing/migration-runner.js';
import { NotificationsTestDatabase } from '../database-harness-spec.js';
import { UnfinishedMailsByAge1734800000000 } from './1734800000000-unfinished-mails-by-age.js';

const db = new NotificationsTestDatabase();
const migration = new UnfinishedMailsByAge1734800000000();
const unfinishedIndex = () => db.index('deliveries_unfinished_by_age');

beforeAll(() => db.start());
afterAll(() => db.stop());

describe('migration 1734800000000: the mails under way by age', () => {
  it('is applied by a fresh migration: the mails pending or being sent, and only those, are indexed by the time each was recorded', async () => {
    expect(await unfinishedIndex()).toEqual({
      valid: true,
      definition: expect.stringMatching(
        /ON notifications\.deliveries USING btree \(created_at\) WHERE \(status = ANY \(ARRAY\['pending'::text, 'sending'::text\]\)\)$/,
      ) as unknown,
    });
  });

  it('is used to find them, rather than the lines of every mail', async () => {
    const plan = await db.dataSource.query<Array<{ 'QUERY PLAN': string }>>(
      `EXPLAIN (FORMAT TEXT) SELECT id FROM deliveries WHERE created_at < now() - interval '8 days' AND status IN ('pending', 'sending') ORDER BY created_at LIMIT 1000`,
    );
    expect(plan.map((row) => row['QUERY PLAN']).join('\n')).toContain('deliveries_unfinished_by_age');
  });

  it('runs outside a transaction, and goes down (the index dropped) and up again', async () => {
    expect(migration.transaction).toBe(false);
    await migrateOutsideTransaction(db.dataSource, migration, 'down');
    expect(await unfinishedIndex()).toBeUndefined();
    await migrateOutsideTransaction(db.dataSource, migration, 'up');
    expect(await unfinishedIndex()).toEqual(expect.objectContaining({ valid: true }));
  });
});

import { Events, type EventEnvelope } from '#libs/contracts/index.js';
import { IdentityTestDatabase } from '../database/integration-harness-spec.js';
import { AnnounceInactivePrincipals1733200000000 } from './1733200000000-announce-inactive-principals.js';

const db = new IdentityTestDatabase();

type Announcement = EventEnvelope<typeof Events.PrincipalActivityChanged>;

beforeAll(() => db.start());
afterAll(() => db.stop());

/** Runs the migration again on the database as it is now (down first: its table exists since the harness migrated). */
async function announce(): Promise<void> {
  const runner = db.dataSource.createQueryRunner();
  try {
    const migration = new AnnounceInactivePrincipals1733200000000();
    await migration.down(runner);
    await migration.up(runner);
  } finally {
    await runner.release();
  }
}

/** The rows the migration wrote into the outbox for the account, largest event first. */
async function announcementsOf(accountId: string): Promise<Array<{ id: string; type: string; account_id: string; payload: Announcement }>> {
  return db.dataSource.query(
    `SELECT id, type, account_id, payload FROM outbox WHERE type = $1 AND account_id = $2 ORDER BY jsonb_array_length(payload->'data'->'changes') DESC`,
    [Events.PrincipalActivityChanged, accountId],
  );
}

/** `count` inactive subusers of the account. */
async function inactiveSubusers(accountId: string, count: number): Promise<void> {
  await db.dataSource.query(
    `INSERT INTO subusers (id, account_id, login, password_hash, status, active)
     SELECT gen_random_uuid(), $1, 'bulk' || n, 'x', 'active', false FROM generate_series(1, $2::int) n`,
    [accountId, count],
  );
}

describe('migration 1733200000000: access learns who is inactive already', () => {
  it('writes one event per account with a change (inactive) for every inactive membership and subuser, and none for the active ones, and keeps who it announced', async () => {
    const { accountId, userId: ownerId } = await db.account();
    const { userId: inactiveUser } = await db.account();
    const activeSubuser = await db.subuser(accountId);
    const inactiveSubuser = await db.subuser(accountId);
    const otherInactiveSubuser = await db.subuser(accountId);
    await db.dataSource.query(`INSERT INTO memberships (account_id, user_id, active) VALUES ($1, $2, false)`, [accountId, inactiveUser]);
    await db.dataSource.query(`UPDATE subusers SET active = false WHERE id = ANY($1)`, [[inactiveSubuser, otherInactiveSubuser]]);
    await announce();
    const rows = await announcementsOf(accountId);
    expect(rows).toHaveLength(1);
    const [{ id, type, account_id, payload }] = rows;
    const at = payload.occurredAt;
    expect(at).toMatch(/^\d{4}-\d\d-\d\dT[\d:]{8}\.\d{6}Z$/);
    expect(payload).toMatchObject({ id, type, accountId: account_id });
    expect(account_id).toBe(accountId);
    expect(payload.data.accountId).toBe(accountId);
    expect(payload.data.changes).toEqual(
      expect.arrayContaining([
        { principalType: 'subuser', principalId: inactiveSubuser, active: false, changedAt: at },
        { principalType: 'subuser', principalId: otherInactiveSubuser, active: false, changedAt: at },
        { principalType: 'user', principalId: inactiveUser, active: false, changedAt: at },
      ]),
    );
    expect(payload.data.changes).toHaveLength(3);
    expect(JSON.stringify(rows)).not.toContain(ownerId);
    expect(JSON.stringify(rows)).not.toContain(activeSubuser);
    const announced = await db.dataSource.query(`SELECT principal_type, principal_id FROM activity_announced WHERE account_id = $1 ORDER BY principal_id`, [
      accountId,
    ]);
    expect(announced).toHaveLength(3);
  });

  it('writes at most 500 changes an event: an account with 501 inactive principals gets two', async () => {
    const { accountId: large } = await db.account();
    const { accountId: small } = await db.account();
    await inactiveSubusers(large, 501);
    await inactiveSubusers(small, 1);
    await announce();
    const sizes = async (accountId: string) => (await announcementsOf(accountId)).map((row) => row.payload.data.changes.length);
    expect(await sizes(large)).toEqual([500, 1]);
    expect(await sizes(small)).toEqual([1]);
    const changes = (await announcementsOf(large)).flatMap((row) => row.payload.data.changes.map((change) => change.principalId));
    expect(new Set(changes).size).toBe(501);
  });
});

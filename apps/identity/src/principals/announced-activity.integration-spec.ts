import { pino } from 'pino';
import { Events, type PrincipalActivityChangedData } from '#libs/contracts/index.js';
import { OutboxWriter, type OutboxRelay } from '#libs/outbox/index.js';
import { IdentityTestDatabase } from '../database/integration-harness-spec.js';
import { AnnounceInactivePrincipals1733200000000 } from '../migrations/1733200000000-announce-inactive-principals.js';
import { AnnouncedActivitySweep } from './announced-activity.sweep.js';

const db = new IdentityTestDatabase();
let nudges = 0;
let sweep: AnnouncedActivitySweep;

beforeAll(async () => {
  await db.start();
  const relay = { nudge: () => (nudges += 1) } as unknown as OutboxRelay;
  sweep = new AnnouncedActivitySweep(db.dataSource, new OutboxWriter(), relay, pino({ level: 'silent' }));
});
afterAll(() => db.stop());

/** The activity events of the account, oldest first. */
async function activityOf(accountId: string): Promise<PrincipalActivityChangedData[]> {
  const rows = await db.dataSource.query<Array<{ data: PrincipalActivityChangedData }>>(
    `SELECT payload->'data' AS data FROM outbox WHERE type = $1 AND account_id = $2 ORDER BY payload->'data'->'changes'->0->>'changedAt'`,
    [Events.PrincipalActivityChanged, accountId],
  );
  return rows.map((row) => row.data);
}

/** A person inactive in the account. */
async function inactiveMember(accountId: string): Promise<string> {
  const { userId } = await db.account();
  await db.dataSource.query(`INSERT INTO memberships (account_id, user_id, active) VALUES ($1, $2, false)`, [accountId, userId]);
  return userId;
}

describe('after the upgrade, identity tells access of the announced principals the previous release reactivated', () => {
  it('writes an active change for each one active again, nothing for those still inactive or gone, and forgets only those active again', async () => {
    const { accountId } = await db.account();
    const [reactivated, stillInactive, removed] = [await inactiveMember(accountId), await inactiveMember(accountId), await inactiveMember(accountId)];
    const reactivatedSubuser = await db.subuser(accountId);
    await db.dataSource.query(`UPDATE subusers SET active = false WHERE id = $1`, [reactivatedSubuser]);
    // The pre-upgrade job announces them; then a pod of the previous release, which writes no event, changes three of them.
    const runner = db.dataSource.createQueryRunner();
    await new AnnounceInactivePrincipals1733200000000().down(runner);
    await new AnnounceInactivePrincipals1733200000000().up(runner);
    await runner.release();
    const [announcement] = await activityOf(accountId);
    await db.dataSource.query(`UPDATE memberships SET active = true WHERE account_id = $1 AND user_id = $2`, [accountId, reactivated]);
    await db.dataSource.query(`UPDATE subusers SET active = true WHERE id = $1`, [reactivatedSubuser]);
    await db.dataSource.query(`DELETE FROM memberships WHERE account_id = $1 AND user_id = $2`, [accountId, removed]);

    expect(await sweep.sweep()).toBe(2);
    const events = await activityOf(accountId);
    expect(events).toHaveLength(2);
    const { changes } = events[1];
    expect(changes.map(({ principalType, principalId, active }) => ({ principalType, principalId, active }))).toEqual(
      expect.arrayContaining([
        { principalType: 'user', principalId: reactivated, active: true },
        { principalType: 'subuser', principalId: reactivatedSubuser, active: true },
      ]),
    );
    expect(changes).toHaveLength(2);
    expect(changes.every((change) => change.changedAt > announcement.changes[0].changedAt)).toBe(true);
    expect(nudges).toBe(1);
    const kept = await db.dataSource.query(`SELECT principal_id FROM activity_announced WHERE account_id = $1 ORDER BY principal_id`, [accountId]);
    expect(kept).toEqual([stillInactive, removed].sort().map((id) => ({ principal_id: id })));

    // The next passes find nothing more to tell.
    expect(await sweep.sweep()).toBe(0);
    expect(await activityOf(accountId)).toHaveLength(2);

    // One gone, then added back by a previous-release pod (no event): it is told of as well.
    await db.dataSource.query(`INSERT INTO memberships (account_id, user_id, active) VALUES ($1, $2, true)`, [accountId, removed]);
    expect(await sweep.sweep()).toBe(1);
    expect((await activityOf(accountId))[2].changes).toEqual([expect.objectContaining({ principalType: 'user', principalId: removed, active: true })]);
  });
});

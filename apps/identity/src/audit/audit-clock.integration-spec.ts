import { freshIdentityServices } from '../database/services-harness-spec.js';

const { db, services } = freshIdentityServices();

describe("the audit trail's times", () => {
  it("are the database's clock, not the pod's: changes of every service and pod are listed in the order they were made", async () => {
    const { accountId, userId } = await db.account();
    // This pod's clock runs ten years ahead.
    services.clock.advance(10 * 365 * 24 * 3600_000);
    await services.users.update({ actor: services.actor('user', userId), accountId, userId, client: { ip: '10.9.0.3' }, body: { lastName: 'Later' } });

    const [row] = await db.dataSource.query<Array<{ skew: number }>>(
      `SELECT abs(extract(epoch FROM occurred_at - now())) AS skew FROM audit_events WHERE target_id = $1 AND action = 'user.updated'`,
      [userId],
    );
    expect(Number(row.skew)).toBeLessThan(60);
  });
});

import { randomUUID } from 'node:crypto';
import { SUSPENSION_CHANGED, type SuspensionChangedEvent } from '#libs/contracts/index.js';
import { freshIdentityServices, SideConnection } from '../database/services-harness-spec.js';

const client = { ip: '10.9.0.2' };
const { db, services } = freshIdentityServices();

/** The suspension changes broadcast since the last call. */
function heard(): SuspensionChangedEvent[] {
  const changes = services.broadcasts
    .filter((broadcast) => broadcast.subject === SUSPENSION_CHANGED)
    .map((broadcast) => broadcast.payload as SuspensionChangedEvent);
  services.broadcasts.length = 0;
  return changes;
}

/** A new account, its admin (the owner) acting, and a person it invited; nothing broadcast so far is kept. */
async function personInvitedByAdmin() {
  const { accountId, userId: adminId } = await db.account();
  const actor = services.actor('user', adminId);
  const email = `p${randomUUID().slice(0, 8)}@example.test`;
  const body = { firstName: 'Grace', lastName: 'Hopper', email, phone: '+447700900124', role: 'Developer' };
  const { id: userId } = await services.users.create({ actor, accountId, client, body });
  heard();
  return { accountId, actor, userId };
}

describe('suspension broadcasts', () => {
  it("carry the database's time of each change of a principal: a later change, a later time (gateways keep the later of two heard out of order)", async () => {
    const { accountId, actor, userId } = await personInvitedByAdmin();
    const setActive = (active: boolean) => services.users.update({ actor, accountId, userId, client, body: { active } });

    await setActive(false);
    const [deactivated] = heard();
    await setActive(true);
    const [reactivated] = heard();

    expect(deactivated).toEqual({
      accountId,
      principalType: 'user',
      principalId: userId,
      suspended: true,
      changedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT[\d:]{8}\.\d{6}Z$/),
    });
    expect(reactivated).toMatchObject({ suspended: false });
    expect(reactivated.changedAt! > deactivated.changedAt!).toBe(true);
  });

  it("are stamped once the change holds the person's row: later than anything that held it before (not when the transaction began)", async () => {
    const { accountId, actor, userId } = await personInvitedByAdmin();
    const side = new SideConnection(db);
    await side.open();
    try {
      // Another change of the person holds its row; the deactivation begins, and waits for it.
      await side.hold('SELECT 1 FROM users WHERE id = $1 FOR UPDATE', [userId]);
      const deactivation = services.users.update({ actor, accountId, userId, client, body: { active: false } });
      // Until it waits for the row: its transaction began before the commit below.
      await side.untilWaiting(1);
      const [{ released }] = await db.dataSource.query<Array<{ released: string }>>(
        `SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS released`,
      );
      await side.commit();
      await deactivation;
      const [deactivated] = heard();
      expect(deactivated.changedAt! > released).toBe(true);
    } finally {
      await side.close();
    }
  });
});

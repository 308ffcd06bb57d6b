import { randomUUID } from 'node:crypto';
import { SUSPENSION_CHANGED, type SuspensionChangedEvent } from '#libs/contracts/index.js';
import { freshIdentityServices } from '../database/services-harness-spec.js';

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

describe('suspension broadcasts', () => {
  it("carry the database's time of each change of a principal: a later change, a later time (gateways keep the later of two heard out of order)", async () => {
    const { accountId, userId: adminId } = await db.account();
    const actor = services.actor('user', adminId);
    const { id: userId } = await services.users.create({
      actor,
      accountId,
      client,
      body: { firstName: 'Grace', lastName: 'Hopper', email: `p${randomUUID().slice(0, 8)}@example.test`, phone: '+447700900124', role: 'Developer' },
    });
    heard();
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
});

import { Events, type PrincipalActivityChange } from '#libs/contracts/index.js';
import { freshIdentityServices, SideConnection } from '../database/services-harness-spec.js';

const client = { ip: '10.11.0.1' };
const { db, services } = freshIdentityServices();

type Told = PrincipalActivityChange & { accountId: string };

/** The activity changes written for `principalId`, oldest first: each a flip, alone in its event. */
async function activityOf(principalId: string): Promise<Told[]> {
  const rows = await db.dataSource.query<Array<{ accountId: string; change: PrincipalActivityChange; inEvent: number }>>(
    `SELECT payload->'data'->>'accountId' AS "accountId", c AS change, jsonb_array_length(payload->'data'->'changes') AS "inEvent"
       FROM outbox, jsonb_array_elements(payload->'data'->'changes') c
      WHERE type = $1 AND c->>'principalId' = $2 ORDER BY c->>'changedAt'`,
    [Events.PrincipalActivityChanged, principalId],
  );
  expect(rows.map((row) => row.inEvent).filter((count) => count !== 1)).toEqual([]);
  return rows.map((row) => ({ accountId: row.accountId, ...row.change }));
}

/** Whether the times are ISO 8601 with microseconds, each later than the one before. */
function rising(events: Told[]): boolean {
  const times = events.map((event) => event.changedAt);
  return times.every((time, index) => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/.test(time) && (index === 0 || times[index - 1] < time));
}

describe('identity tells access when a principal is deactivated or reactivated', () => {
  it('writes an event with every flip of a membership (none when nothing flips), one for the removal, and for someone with a login one when invited (inactive until they accept) and one when they accept', async () => {
    const { accountId, userId: ownerId } = await db.account();
    const actor = services.actor('user', ownerId);
    // A person with a login of their own (a pending one would be forgotten with the removal).
    const { userId: personId } = await db.account();
    const [{ email }] = await db.dataSource.query<Array<{ email: string }>>(`SELECT email FROM users WHERE id = $1`, [personId]);
    const add = () =>
      services.users.create({ actor, accountId, client, body: { firstName: 'Grace', lastName: 'Hopper', email, phone: '+447700900124', role: 'Developer' } });
    const accept = async () => services.invitations.acceptByLink({ body: { token: await services.lastLinkToken(Events.UserInvited, personId) }, client });
    const { id: userId } = await add();
    expect(userId).toBe(personId);
    await accept();
    const setActive = (active: boolean) => services.users.update({ actor, accountId, userId, client, body: { active } });
    await setActive(false);
    await setActive(false);
    await setActive(true);
    await services.users.remove({ actor, accountId, userId, client });
    await add();
    await accept();
    const events = await activityOf(userId);
    expect(events.map(({ active }) => active)).toEqual([false, true, false, true, false, false, true]);
    expect(events.every((event) => event.accountId === accountId && event.principalType === 'user')).toBe(true);
    expect(rising(events)).toBe(true);
  });

  it('writes none for a person new to Portico: access cannot hold them inactive, and the event would cost it an account change', async () => {
    const { accountId, userId: ownerId } = await db.account();
    const { id } = await services.users.create({
      actor: services.actor('user', ownerId),
      accountId,
      client,
      body: { firstName: 'Ada', lastName: 'Lovelace', email: `ada-${accountId.slice(0, 8)}@example.test`, phone: '+447700900125', role: 'Developer' },
    });
    expect(await activityOf(id)).toEqual([]);
  });

  it('writes an event with every flip of a subuser', async () => {
    const { accountId, userId: ownerId } = await db.account();
    const subuserId = await db.subuser(accountId);
    const setActive = (active: boolean) => services.subusers.update({ actor: services.actor('user', ownerId), accountId, subuserId, client, body: { active } });
    await setActive(false);
    await setActive(false);
    await setActive(true);
    const events = await activityOf(subuserId);
    expect(events.map(({ active, principalType }) => ({ active, principalType }))).toEqual([
      { active: false, principalType: 'subuser' },
      { active: true, principalType: 'subuser' },
    ]);
    expect(rising(events)).toBe(true);
  });

  it("tells a subuser's last state when a deactivation and a reactivation meet: the second judges the row the first left", async () => {
    const { accountId, userId: ownerId } = await db.account();
    const subuserId = await db.subuser(accountId);
    const setActive = (active: boolean) => services.subusers.update({ actor: services.actor('user', ownerId), accountId, subuserId, client, body: { active } });
    const side = new SideConnection(db);
    await side.open();
    try {
      // The deactivation stops, uncommitted, at its first outbox row; the reactivation comes meanwhile.
      await side.holdOutbox();
      const deactivation = setActive(false);
      await side.untilWaiting(1);
      const reactivation = setActive(true);
      await side.untilWaiting(2);
      await side.release();
      await Promise.all([deactivation, reactivation]);
    } finally {
      await side.close();
    }
    const [{ active }] = await db.dataSource.query<Array<{ active: boolean }>>(`SELECT active FROM subusers WHERE id = $1`, [subuserId]);
    const events = await activityOf(subuserId);
    expect(active).toBe(true);
    expect(events.map((event) => event.active)).toEqual([false, true]);
    expect(rising(events)).toBe(true);
  });
});

import { randomUUID } from 'node:crypto';
import { freshIdentityServices } from '../database/services-harness-spec.js';

const PASSWORD = 'correct horse battery staple';
const TYPED = { firstName: 'Typed', lastName: 'Byadmin', phone: '+15550001111', role: 'Developer' };
const { db, services } = freshIdentityServices();

let address = 0;
/** A client address of its own for each call, so that no address counter spills from one test to the next. */
const client = () => ({ ip: `10.47.${Math.floor(++address / 250)}.${address % 250}` });

/** The accounts whose audit trail holds a refused sign-in of `userId` (null: the operators' only). */
async function refusalsShownTo(userId: string): Promise<Array<string | null>> {
  await services.auth.refusalsRecorded();
  const rows = await db.dataSource.query<Array<{ account_id: string | null }>>(
    `SELECT account_id FROM audit_events WHERE target_id = $1 AND action = 'login.failed' ORDER BY account_id`,
    [userId],
  );
  return rows.map((row) => row.account_id);
}

const wrongSignIn = (email: string) =>
  expect(services.auth.login({ client: client(), body: { email, password: 'not the password at all' } })).rejects.toThrow();

/** An account whose owner adds `email`: the person's id there. */
async function addedBy(email: string): Promise<{ accountId: string; userId: string; ownerId: string }> {
  const { accountId, userId: ownerId } = await db.account();
  const { id } = await services.users.create({ actor: services.actor('user', ownerId), accountId, client: client(), body: { ...TYPED, email } });
  return { accountId, userId: id, ownerId };
}

/** Someone with a login, working in an account of their own. */
async function personWithLogin(): Promise<{ userId: string; email: string; homeAccountId: string }> {
  const { accountId: homeAccountId } = await db.account();
  const { id: userId, email } = await db.member(homeAccountId, `fake:${PASSWORD}`);
  return { userId, email, homeAccountId };
}

describe('which accounts see a refused sign-in of a person', () => {
  it('none, for a person invited who never set a password: the account cannot tell a new address from one with a login elsewhere (B2)', async () => {
    const email = `new-${randomUUID().slice(0, 8)}@refusals.test`;
    const { userId } = await addedBy(email);
    await wrongSignIn(email);
    expect(await refusalsShownTo(userId)).toEqual([null]);
  });

  it('the accounts they work in, not one waiting for their consent (which sees no more of a known person than of a new one)', async () => {
    const { userId, email, homeAccountId } = await personWithLogin();
    await addedBy(email);
    await wrongSignIn(email);
    expect(await refusalsShownTo(userId)).toEqual([homeAccountId]);
  });

  it('an account that deactivated them: its admins see their attempts, as they see a deactivated subuser’s', async () => {
    const { userId, email, homeAccountId } = await personWithLogin();
    await db.dataSource.query('UPDATE memberships SET active = false WHERE user_id = $1 AND account_id = $2', [userId, homeAccountId]);
    await expect(services.auth.login({ client: client(), body: { email, password: PASSWORD } })).rejects.toThrow();
    expect(await refusalsShownTo(userId)).toEqual([homeAccountId]);
  });
});

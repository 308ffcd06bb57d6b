import { Events } from '#libs/contracts/index.js';
import { freshIdentityServices, SideConnection } from '../database/services-harness-spec.js';

const PASSWORD = 'correct horse battery staple';
const NEW_PASSWORD = 'a new and longer passphrase';
const client = { ip: '10.49.0.1' };
const { db, services } = freshIdentityServices();

/** A person with PASSWORD, an active member of a new account; the actor of their own session. */
async function person() {
  const { accountId } = await db.account();
  const { id, email } = await db.member(accountId, `fake:${PASSWORD}`);
  return { id, email, actor: services.actor('user', id) };
}

async function noticesTo(userId: string): Promise<string[]> {
  const rows = await db.dataSource.query<Array<{ email: string }>>(
    `SELECT payload->'data'->>'email' AS email FROM outbox WHERE type = $1 AND payload->'data'->>'principalId' = $2`,
    [Events.PasswordChanged, userId],
  );
  return rows.map((row) => row.email);
}

describe("a change of one's password", () => {
  it('sends the notice to the address the login moved to while the change waited', async () => {
    const { id, email, actor } = await person();
    const moved = `moved-${email}`;
    const side = new SideConnection(db);
    await side.open();
    try {
      await side.hold('UPDATE users SET email = $2 WHERE id = $1', [id, moved]);
      const change = services.passwords.change({ actor, client, body: { currentPassword: PASSWORD, newPassword: NEW_PASSWORD } });
      await side.untilWaiting(1);
      await side.commit();
      await change;
    } finally {
      await side.close();
    }
    expect(await noticesTo(id)).toEqual([moved]);
  });

  it('is refused when the new password is the current one (400 naming newPassword), and changes nothing', async () => {
    const { id, actor } = await person();
    await expect(services.passwords.change({ actor, client, body: { currentPassword: PASSWORD, newPassword: PASSWORD } })).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
      details: { field: 'newPassword' },
    });
    expect(await noticesTo(id)).toEqual([]);
  });
});

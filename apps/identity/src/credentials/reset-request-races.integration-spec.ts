import { Events } from '#libs/contracts/index.js';
import { freshIdentityServices, SideConnection } from '../database/services-harness-spec.js';

const client = { ip: '10.48.0.1' };
const { db, services } = freshIdentityServices();

/** A person with a password, an active member of a new account. */
async function member(): Promise<{ id: string; email: string }> {
  const { accountId } = await db.account();
  return db.member(accountId);
}

/** The addresses reset mails went to for `principalId`, and how many of its reset links are still live. */
async function resetsOf(principalId: string): Promise<{ mailedTo: string[]; liveLinks: number }> {
  await services.inFlight.idle(5000);
  const mails = await db.dataSource.query<Array<{ email: string }>>(
    `SELECT payload->'data'->>'email' AS email FROM outbox WHERE type = $1 AND payload->'data'->>'principalId' = $2`,
    [Events.PasswordResetRequested, principalId],
  );
  const [{ live }] = await db.dataSource.query<Array<{ live: number }>>(
    `SELECT count(*)::int AS live FROM action_tokens WHERE purpose = 'reset' AND $1 IN (user_id, subuser_id) AND used_at IS NULL AND voided_at IS NULL`,
    [principalId],
  );
  return { mailedTo: mails.map((row) => row.email), liveLinks: live };
}

/** Runs `change` on the principal's row from a side connection, asks for a reset `times` meanwhile, then commits the change. */
async function askWhileChanging(change: string, parameters: unknown[], ask: () => Promise<unknown>, times = 1): Promise<void> {
  const side = new SideConnection(db);
  await side.open();
  try {
    await side.hold(change, parameters);
    for (let asked = 0; asked < times; asked += 1) await ask();
    // Each request waits for the change to commit before it reads anything of the login.
    await side.untilWaiting(times);
    await side.commit();
  } finally {
    await side.close();
  }
}

describe('a self-service reset asked while the login changes', () => {
  it('sends nothing to an address the person moved their login away from meanwhile', async () => {
    const person = await member();
    await askWhileChanging('UPDATE users SET email = $2 WHERE id = $1', [person.id, `moved-${person.email}`], () =>
      services.resets.request({ body: { email: person.email }, client }),
    );
    expect(await resetsOf(person.id)).toEqual({ mailedTo: [], liveLinks: 0 });
  });

  it("sends a subuser's link to the address an admin gave it meanwhile, not to the one it had", async () => {
    const { accountId } = await db.account();
    const [{ slug }] = await db.dataSource.query<Array<{ slug: string }>>('SELECT slug FROM accounts WHERE id = $1', [accountId]);
    const subuserId = await db.subuser(accountId, 'desk');
    await db.dataSource.query(`UPDATE subusers SET password_hash = 'fake:x', email = 'old@races.test' WHERE id = $1`, [subuserId]);
    await askWhileChanging(`UPDATE subusers SET email = 'new@races.test' WHERE id = $1`, [subuserId], () =>
      services.resets.requestForSubuser({ body: { account: slug, login: 'desk' }, client }),
    );
    expect(await resetsOf(subuserId)).toEqual({ mailedTo: ['new@races.test'], liveLinks: 1 });
  });

  it('issues no link to a subuser deactivated meanwhile (none would work once it is active again)', async () => {
    const { accountId } = await db.account();
    const [{ slug }] = await db.dataSource.query<Array<{ slug: string }>>('SELECT slug FROM accounts WHERE id = $1', [accountId]);
    const subuserId = await db.subuser(accountId, 'desk');
    await db.dataSource.query(`UPDATE subusers SET password_hash = 'fake:x', email = 'desk@races.test' WHERE id = $1`, [subuserId]);
    await askWhileChanging('UPDATE subusers SET active = false WHERE id = $1', [subuserId], () =>
      services.resets.requestForSubuser({ body: { account: slug, login: 'desk' }, client }),
    );
    expect(await resetsOf(subuserId)).toEqual({ mailedTo: [], liveLinks: 0 });
  });

  it('leaves one live link when several are asked at once (each voids the one before)', async () => {
    const person = await member();
    // All three wait for the person's row, and are then let go at once.
    await askWhileChanging(
      'SELECT 1 FROM users WHERE id = $1 FOR UPDATE',
      [person.id],
      () => services.resets.request({ body: { email: person.email }, client }),
      3,
    );
    const { mailedTo, liveLinks } = await resetsOf(person.id);
    expect([mailedTo.length, liveLinks]).toEqual([3, 1]);
  });
});

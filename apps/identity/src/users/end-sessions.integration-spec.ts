import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { freshIdentityServices, SideConnection } from '../database/services-harness-spec.js';

const client = { ip: '10.11.0.1' };
const { db, services } = freshIdentityServices();

/** An activated person with these memberships. */
async function person(memberships: Array<{ accountId: string; active: boolean }>): Promise<string> {
  const id = randomUUID();
  await db.dataSource.query(
    `INSERT INTO users (id, email, first_name, last_name, phone, password_hash, status) VALUES ($1, $2, 'Grace', 'Hopper', '+447700900124', 'x', 'active')`,
    [id, `${id.slice(0, 8)}@example.test`],
  );
  for (const { accountId, active } of memberships) {
    await db.dataSource.query(`INSERT INTO memberships (account_id, user_id, active) VALUES ($1, $2, $3)`, [accountId, id, active]);
  }
  return id;
}

/**
 * Another account's admin changes the person at the same moment: `change` runs in a transaction of
 * its own, which commits once the admin's ending of the sessions waits for it.
 */
async function endSessionsDuring(change: string, parameters: unknown[], admin: { accountId: string; userId: string }, userId: string): Promise<unknown> {
  const other = new pg.Client({ connectionString: db.database.url });
  const side = new SideConnection(db);
  await Promise.all([other.connect(), side.open()]);
  try {
    await other.query('SET search_path = identity, public');
    await other.query('BEGIN');
    await other.query(change, parameters);
    const ending = services.users.endSessions({ actor: services.actor('user', admin.userId), accountId: admin.accountId, userId, client });
    const outcome = ending.then(
      (value) => ({ value }),
      (error: unknown) => ({ error }),
    );
    await side.untilWaiting(1);
    await other.query('COMMIT');
    return await outcome;
  } finally {
    await Promise.all([other.end(), side.close()]);
  }
}

describe("an admin's ending of a person's sessions while another account readmits them", () => {
  it('is refused (403) when the person is reactivated in the other account at that moment', async () => {
    const [here, there] = await Promise.all([db.account(), db.account()]);
    const userId = await person([
      { accountId: here.accountId, active: true },
      { accountId: there.accountId, active: false },
    ]);
    const outcome = await endSessionsDuring(
      'UPDATE memberships SET active = true WHERE account_id = $1 AND user_id = $2',
      [there.accountId, userId],
      here,
      userId,
    );
    expect(outcome).toMatchObject({ error: { code: 'FORBIDDEN' } });
  });

  it('is refused (403) when the person is added to another account at that moment', async () => {
    const [here, there] = await Promise.all([db.account(), db.account()]);
    const userId = await person([{ accountId: here.accountId, active: true }]);
    const outcome = await endSessionsDuring(
      'INSERT INTO memberships (account_id, user_id, active) VALUES ($1, $2, true)',
      [there.accountId, userId],
      here,
      userId,
    );
    expect(outcome).toMatchObject({ error: { code: 'FORBIDDEN' } });
  });

  it('goes ahead when the person is active nowhere else', async () => {
    const [here, there] = await Promise.all([db.account(), db.account()]);
    const userId = await person([
      { accountId: here.accountId, active: true },
      { accountId: there.accountId, active: false },
    ]);
    await expect(services.users.endSessions({ actor: services.actor('user', here.userId), accountId: here.accountId, userId, client })).resolves.toEqual({
      ended: 0,
    });
  });
});

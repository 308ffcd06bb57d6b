import { randomUUID } from 'node:crypto';
import { freshIdentityServices } from '../database/services-harness-spec.js';

// Addresses that PostgreSQL's lower() folds onto a stored one while JavaScript's toLowerCase() does
// not. The contracts refuse them (400) on every subject, HTTP and NATS alike (email-folding.spec.ts);
// these tests send them past the contracts to show that identity still treats them as one address.
const PASSWORD = 'velvet orchard compass';
const { db, services } = freshIdentityServices();

/** A person stored with `email`, active in a new account, signing in with {@link PASSWORD}. */
async function person(email: string): Promise<string> {
  const { accountId } = await db.account();
  const userId = randomUUID();
  await db.dataSource.query(
    `INSERT INTO users (id, email, first_name, last_name, phone, password_hash, status) VALUES ($1, $2, 'Irene', 'Adler', '+447700900126', $3, 'active')`,
    [userId, email, `fake:${PASSWORD}`],
  );
  await db.dataSource.query(`INSERT INTO memberships (account_id, user_id, active) VALUES ($1, $2, true)`, [accountId, userId]);
  return userId;
}

/** A stored address and one typed differently that PostgreSQL folds onto it. */
const LOOKALIKES: Array<[string, () => { stored: string; typed: string }]> = [
  [
    'İ (U+0130)',
    () => {
      const tag = randomUUID().slice(0, 8);
      return { stored: `irene.${tag}@example.test`, typed: `İrene.${tag}@example.test` };
    },
  ],
  [
    'Σ ending the address',
    () => {
      const tag = randomUUID().slice(0, 8);
      return { stored: `irene.${tag}@example.ασ`, typed: `irene.${tag}@example.ΑΣ` };
    },
  ],
];

describe('an e-mail that PostgreSQL folds onto a stored one, and JavaScript does not', () => {
  it.each(LOOKALIKES)('(%s) added to an account finds the stored person: no 409 telling that the address exists', async (_label, addresses) => {
    const { stored, typed } = addresses();
    const userId = await person(stored);
    const { accountId, userId: adminId } = await db.account();
    const body = { firstName: 'Irene', lastName: 'Adler', email: typed, phone: '+447700900126', role: 'Developer' };
    await expect(services.users.create({ actor: services.actor('user', adminId), accountId, client: { ip: '10.11.0.1' }, body })).resolves.toEqual({
      id: userId,
    });
  });

  it.each(LOOKALIKES)('(%s) as the owner of a new account finds the stored person: no 500', async (_label, addresses) => {
    const { stored, typed } = addresses();
    const userId = await person(stored);
    const slug = `f${randomUUID().slice(0, 8)}`;
    const owner = { firstName: 'Irene', lastName: 'Adler', email: typed, phone: '+447700900126' };
    await expect(services.accounts.create({ name: 'Folded', slug, owner })).resolves.toMatchObject({ ownerId: userId });
  });
});

describe('in a database whose LC_CTYPE is C (lower() folds ASCII only)', () => {
  const { db: cDatabase, services: cServices } = freshIdentityServices('C');

  it('a person whose address has a capital beyond ASCII signs in with it (found as the unique column folds it)', async () => {
    const { accountId } = await cDatabase.account();
    const userId = randomUUID();
    const email = `Élodie.${randomUUID().slice(0, 8)}@example.test`;
    await cDatabase.dataSource.query(
      `INSERT INTO users (id, email, first_name, last_name, phone, password_hash, status) VALUES ($1, $2, 'Élodie', 'Martin', '+447700900126', $3, 'active')`,
      [userId, email, `fake:${PASSWORD}`],
    );
    await cDatabase.dataSource.query(`INSERT INTO memberships (account_id, user_id, active) VALUES ($1, $2, true)`, [accountId, userId]);
    await expect(cServices.auth.login({ body: { email, password: PASSWORD }, client: { ip: '10.11.0.2' } })).resolves.toMatchObject({
      accessToken: expect.any(String),
    });
    expect(await cServices.openSessions(userId)).toBe(1);
  });

  it('re-sends the invitation of someone whose address has a capital beyond ASCII (its login still signs in with it)', async () => {
    const userId = randomUUID();
    const email = `Élodie.${randomUUID().slice(0, 8)}@example.test`;
    await cDatabase.dataSource.query(
      `INSERT INTO users (id, email, first_name, last_name, phone, password_hash, status) VALUES ($1, $2, 'Élodie', 'Martin', '+447700900126', 'x', 'active')`,
      [userId, email],
    );
    const { accountId, userId: adminId } = await cDatabase.account();
    const about = { actor: cServices.actor('user', adminId), accountId, client: { ip: '10.11.0.3' } };
    await cServices.users.create({ ...about, body: { firstName: 'Élodie', lastName: 'Martin', email, phone: '+447700900126', role: 'Developer' } });

    await cServices.users.resendInvitation({ ...about, userId });

    const [{ count }] = await cDatabase.dataSource.query<Array<{ count: number }>>(
      `SELECT count(*)::int AS count FROM outbox WHERE type = 'identity.user.invited' AND payload->'data'->>'userId' = $1`,
      [userId],
    );
    expect(count).toBe(2);
  });
});

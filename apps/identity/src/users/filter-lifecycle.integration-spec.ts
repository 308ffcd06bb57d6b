import { randomUUID } from 'node:crypto';
import type { ListUsersQuery } from '#libs/contracts/index.js';
import { freshIdentityServices } from '../database/services-harness-spec.js';

/**
 * The user table's status/active filters agree with what each row shows, through a person's
 * whole life in an account (signed in elsewhere, invited, accepted, signed in, removed, invited
 * again, made inactive while invited, signed in meanwhile), for every combination of filters.
 */
const PASSWORD = 'correct horse battery staple';
const client = { ip: '10.46.0.1' };
const { db, services } = freshIdentityServices();

const COMBOS: ListUsersQuery[] = [
  {},
  { status: 'pending' },
  { status: 'active' },
  { active: true },
  { active: false },
  { status: 'pending', active: true },
  { status: 'pending', active: false },
  { status: 'active', active: true },
  { status: 'active', active: false },
];

async function agree(accountId: string, owner: ReturnType<typeof services.actor>, label: string): Promise<void> {
  const all = await services.users.list({ actor: owner, accountId, client, query: { limit: 100 } });
  for (const query of COMBOS) {
    for (const search of [undefined, 'grace']) {
      for (const sort of ['name', 'lastLoginAt'] as const) {
        const page = await services.users.list({ actor: owner, accountId, client, query: { limit: 100, sort, ...query, ...(search ? { search } : {}) } });
        const expected = all.items
          .filter((row) => (query.status === undefined || row.status === query.status) && (query.active === undefined || row.active === query.active))
          .filter((row) => !search || `${row.firstName} ${row.lastName} ${row.email}`.toLowerCase().includes(search))
          .map((row) => row.id)
          .sort();
        expect({ label, query, search, sort, ids: page.items.map((row) => row.id).sort() }).toEqual({ label, query, search, sort, ids: expected });
      }
    }
  }
}

it('agrees with the rows at every step', async () => {
  const home = await db.account();
  const b = await db.account();
  const owner = services.actor('user', b.userId);
  const userId = randomUUID();
  const email = `g${userId.slice(0, 8)}@life.test`;
  await db.dataSource.query(
    `INSERT INTO users (id, email, first_name, last_name, phone, password_hash, status) VALUES ($1, $2, 'Grace', 'Hopper', '+447700900128', $3, 'active')`,
    [userId, email, `fake:${PASSWORD}`],
  );
  await db.dataSource.query('INSERT INTO memberships (account_id, user_id, active) VALUES ($1, $2, true)', [home.accountId, userId]);
  const signIn = () => services.auth.login({ body: { email, password: PASSWORD }, client });
  const add = (typedEmail = email) =>
    services.users.create({
      actor: owner,
      accountId: b.accountId,
      client,
      body: { firstName: 'Grace', lastName: 'Typed', email: typedEmail, phone: '+447700900199', role: 'Developer' } as any,
    });
  await signIn();
  await add();
  await agree(b.accountId, owner, 'invited');
  await signIn();
  await agree(b.accountId, owner, 'invited, signed in elsewhere');
  await services.invitations.acceptOwn({ actor: services.actor('user', userId), accountId: b.accountId, client });
  await signIn();
  await agree(b.accountId, owner, 'accepted and signed in');
  await services.users.update({ actor: owner, accountId: b.accountId, client, userId, body: { active: false } });
  await agree(b.accountId, owner, 'deactivated');
  await services.users.remove({ actor: owner, accountId: b.accountId, client, userId });
  await add();
  await signIn();
  await agree(b.accountId, owner, 're-invited after removal');
  await services.users.update({ actor: owner, accountId: b.accountId, client, userId, body: { active: false } });
  await signIn();
  await agree(b.accountId, owner, 're-invited, made inactive');
  await services.invitations.acceptOwn({ actor: services.actor('user', userId), accountId: b.accountId, client });
  await agree(b.accountId, owner, 'accepted inactive');
  // a newcomer (no login), invited by b: pending, active; then deactivated
  const { id: newcomer } = await add('newcomer@life.test');
  await agree(b.accountId, owner, 'newcomer');
  await services.users.update({ actor: owner, accountId: b.accountId, client, userId: newcomer, body: { active: false } });
  await agree(b.accountId, owner, 'newcomer inactive');
});

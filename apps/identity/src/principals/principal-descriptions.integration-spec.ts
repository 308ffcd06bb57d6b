import { randomUUID } from 'node:crypto';
import { IdentityTestDatabase } from '../database/integration-harness-spec.js';
import { describePrincipals } from './principal-descriptions.js';

const db = new IdentityTestDatabase();

beforeAll(() => db.start());
afterAll(() => db.stop());

describe("naming an account's principals (identity.principals.describe)", () => {
  it("names the account's people, subusers and service accounts, and leaves out another account's, removed or unknown ones", async () => {
    const ours = await db.account('ours-named');
    const theirs = await db.account('theirs-named');
    const desk = await db.subuser(ours.accountId, 'desk.ours');
    const theirDesk = await db.subuser(theirs.accountId, 'desk.theirs');
    const program = randomUUID();
    await db.dataSource.query(`INSERT INTO service_accounts (id, account_id, name) VALUES ($1, $2, 'billing-sync')`, [program, ours.accountId]);
    const principals = [
      { type: 'user' as const, id: ours.userId },
      { type: 'subuser' as const, id: desk },
      { type: 'service-account' as const, id: program },
      { type: 'user' as const, id: theirs.userId },
      { type: 'subuser' as const, id: theirDesk },
      { type: 'user' as const, id: randomUUID() },
      // An id of one type asked as the other names nothing.
      { type: 'user' as const, id: desk },
      { type: 'subuser' as const, id: ours.userId },
    ];

    const described = await describePrincipals(db.dataSource.manager, ours.accountId, principals);

    expect(described.sort((a, b) => a.principal.type.localeCompare(b.principal.type))).toEqual([
      { principal: { type: 'service-account', id: program }, name: 'billing-sync', email: null },
      { principal: { type: 'subuser', id: desk }, name: 'desk.ours', email: null },
      { principal: { type: 'user', id: ours.userId }, name: 'Ada Lovelace', email: 'ours-named@example.test' },
    ]);
  });
});

import { randomUUID } from 'node:crypto';
import { pino } from 'pino';
import { Subjects, type Principal, type RoleHoldingsOfPrincipal } from '#libs/contracts/index.js';
import type { RpcSender } from '#libs/platform/index.js';
import { IdentityTestDatabase } from '../database/integration-harness-spec.js';
import { RoleProjection, type HeldRoles } from './role-projection.js';
import { RoleProjectionBackfill, type BackfillPacing } from './role-projection-backfill.js';

const db = new IdentityTestDatabase();
let projection: RoleProjection;
const ADMIN = 'builtin:Admin';
const DEVELOPER = 'builtin:Developer';

beforeAll(async () => {
  await db.start();
  projection = new RoleProjection(db.dataSource);
}, 30_000);
afterAll(() => db.stop());

/** The roles the projection says the principal holds in the account, sorted. */
async function rolesOf(accountId: string, principal: Principal): Promise<string[]> {
  const rows = await db.dataSource.query<Array<{ role_id: string }>>(
    'SELECT role_id FROM role_holdings WHERE account_id = $1 AND principal_type = $2 AND principal_id = $3 ORDER BY role_id',
    [accountId, principal.type, principal.id],
  );
  return rows.map((row) => row.role_id);
}

/** A member of a new account. */
async function memberOfAccount(): Promise<{ accountId: string; member: Principal }> {
  const { accountId } = await db.account();
  const { id } = await db.member(accountId);
  return { accountId, member: { type: 'user', id } };
}

const held = (accountId: string, principal: Principal, roleIds: string[], version: number | null): HeldRoles => ({ accountId, principal, roleIds, version });

describe("identity's role projection, from access's bindings.replaced", () => {
  it('keeps what the latest change says, whatever order and however often changes come: an older one arriving after a newer one changes nothing', async () => {
    const { accountId, member } = await memberOfAccount();
    expect(await projection.apply(held(accountId, member, [DEVELOPER], 10))).toBe(true);
    expect(await projection.apply(held(accountId, member, [ADMIN, DEVELOPER], 30))).toBe(true);
    // Redelivered, and the change between them arriving last.
    expect(await projection.apply(held(accountId, member, [ADMIN, DEVELOPER], 30))).toBe(false);
    expect(await projection.apply(held(accountId, member, [DEVELOPER], 20))).toBe(false);
    expect(await rolesOf(accountId, member)).toEqual([ADMIN, DEVELOPER]);
    expect(await projection.apply(held(accountId, member, [], 40))).toBe(true);
    expect(await projection.apply(held(accountId, member, [ADMIN], 35))).toBe(false);
    expect(await rolesOf(accountId, member)).toEqual([]);
  });

  it('applies two changes of one principal at once in version order, whichever commits first (two replicas)', async () => {
    const { accountId, member } = await memberOfAccount();
    for (let round = 1; round <= 10; round++) {
      await Promise.all([
        projection.apply(held(accountId, member, [`builtin:R${round}b`], round * 10 + 1)),
        projection.apply(held(accountId, member, [`builtin:R${round}a`], round * 10)),
      ]);
      expect(await rolesOf(accountId, member)).toEqual([`builtin:R${round}b`]);
    }
  });

  it('applies a change without a version (an access release before versions) as it comes, leaving the version known', async () => {
    const { accountId, member } = await memberOfAccount();
    await projection.apply(held(accountId, member, [ADMIN], null));
    expect(await rolesOf(accountId, member)).toEqual([ADMIN]);
    await projection.apply(held(accountId, member, [DEVELOPER], 5));
    await projection.apply(held(accountId, member, [ADMIN], null));
    expect(await rolesOf(accountId, member)).toEqual([ADMIN]);
    expect(await projection.apply(held(accountId, member, [DEVELOPER], 4))).toBe(false);
  });

  it("keeps a principal's roles whether it is in the account or not, as access does (the lists show only those in it); drops every row with the account", async () => {
    const { accountId, member } = await memberOfAccount();
    const subuser: Principal = { type: 'subuser', id: await db.subuser(accountId) };
    await projection.apply(held(accountId, member, [ADMIN], 10));
    await projection.apply(held(accountId, subuser, [DEVELOPER], 11));
    await db.dataSource.query('DELETE FROM memberships WHERE account_id = $1 AND user_id = $2', [accountId, member.id]);
    await db.dataSource.query('DELETE FROM subusers WHERE account_id = $1 AND id = $2', [accountId, subuser.id]);
    expect([await rolesOf(accountId, member), await rolesOf(accountId, subuser)]).toEqual([[ADMIN], [DEVELOPER]]);
    expect(await projection.apply(held(accountId, member, [DEVELOPER], 9))).toBe(false);
    // Access's unbinding after the removal: applied, nothing left.
    expect(await projection.apply(held(accountId, subuser, [], 12))).toBe(true);
    expect(await rolesOf(accountId, subuser)).toEqual([]);

    const other = await memberOfAccount();
    await projection.apply(held(other.accountId, other.member, [ADMIN], 1));
    await db.dataSource.query('DELETE FROM accounts WHERE id = $1', [other.accountId]);
    expect(await projection.apply(held(other.accountId, other.member, [ADMIN], 2))).toBe(false);
    const [{ count }] = await db.dataSource.query<Array<{ count: number }>>(
      'SELECT (SELECT count(*) FROM role_holdings WHERE account_id = $1) + (SELECT count(*) FROM role_holding_versions WHERE account_id = $1) AS count',
      [other.accountId],
    );
    expect(Number(count)).toBe(0);
  });

  it("never waits for a removal holding the principal's row (a subuser's deletion, row locked first), nor deadlocks with it", async () => {
    const { accountId } = await memberOfAccount();
    const subuser: Principal = { type: 'subuser', id: await db.subuser(accountId) };
    await projection.apply(held(accountId, subuser, [DEVELOPER], 10));
    // As SubusersService.remove: the subuser locked first, deleted later in the same transaction.
    const removal = db.dataSource.createQueryRunner();
    await removal.connect();
    await removal.startTransaction();
    try {
      await removal.query('SELECT 1 FROM subusers WHERE id = $1 AND account_id = $2 FOR UPDATE', [subuser.id, accountId]);
      await removal.query('DELETE FROM subusers WHERE id = $1 AND account_id = $2', [subuser.id, accountId]);
      await expect(projection.apply(held(accountId, subuser, [], 20))).resolves.toBe(true);
      await removal.commitTransaction();
    } finally {
      if (removal.isTransactionActive) await removal.rollbackTransaction();
      await removal.release();
    }
    expect(await rolesOf(accountId, subuser)).toEqual([]);
  });
});

/** Access's answers to `access.role-holdings.page`, `items` cut in pages of `limit`; `asked` counts the requests. */
function accessHolding(items: RoleHoldingsOfPrincipal[]): RpcSender & { asked: number } {
  const sender = {
    asked: 0,
    send: (subject: string, payload: { cursor?: string | null; limit?: number }) => {
      expect(subject).toBe(Subjects.AccessRoleHoldingsPage);
      sender.asked++;
      const start = payload.cursor ? Number(payload.cursor) : 0;
      const end = start + (payload.limit ?? 500);
      return Promise.resolve({ items: items.slice(start, end), nextCursor: end < items.length ? String(end) : null });
    },
  };
  return sender as unknown as RpcSender & { asked: number };
}

describe('the backfill of the role projection from access (roles bound before this release)', () => {
  const pacing: BackfillPacing = { pageSize: 2, retryMs: 1000, leaseSeconds: 60 };
  const logger = pino({ level: 'silent' });

  it("keeps a service account's roles, as a person's or a subuser's", async () => {
    const { accountId } = await db.account();
    const program: Principal = { type: 'service-account', id: randomUUID() };
    await db.dataSource.query(`INSERT INTO service_accounts (id, account_id, name) VALUES ($1, $2, 'billing-sync')`, [program.id, accountId]);
    expect(await projection.apply(held(accountId, program, [DEVELOPER], 12))).toBe(true);
    expect(await projection.apply(held(accountId, program, [ADMIN], 11))).toBe(false);
    expect(await rolesOf(accountId, program)).toEqual([DEVELOPER]);
  });

  it('copies every principal once, keeps a change applied meanwhile that is newer, and is done once whatever replicas start together', async () => {
    const { accountId, member } = await memberOfAccount();
    const others = await Promise.all([db.member(accountId), db.member(accountId)]);
    const subuser: Principal = { type: 'subuser', id: await db.subuser(accountId) };
    const item = (principal: Principal, roleIds: string[], version: number) => ({ accountId, principal, roleIds, version });
    const items = [
      item(member, [ADMIN], 5),
      item({ type: 'user', id: others[0].id }, [DEVELOPER], 5),
      item({ type: 'user', id: others[1].id }, [DEVELOPER, ADMIN], 5),
      item(subuser, [DEVELOPER], 5),
      // A principal access knows in an account identity does not hold: nothing kept.
      { accountId: randomUUID(), principal: { type: 'user' as const, id: randomUUID() }, roleIds: [ADMIN], version: 5 },
    ];
    // An event newer than access's page, applied before the backfill reaches it.
    await projection.apply(held(accountId, member, [DEVELOPER], 6));
    const access = accessHolding(items);
    const replicas = [0, 1, 2].map(() => new RoleProjectionBackfill(db.dataSource, projection, access, logger));
    const outcomes = await Promise.all(replicas.map((replica) => replica.fillOnce(pacing)));
    expect(outcomes.filter((outcome) => outcome === 'filled')).toHaveLength(1);
    expect(access.asked).toBe(3);
    expect(await rolesOf(accountId, member)).toEqual([DEVELOPER]);
    expect(await rolesOf(accountId, { type: 'user', id: others[1].id })).toEqual([ADMIN, DEVELOPER]);
    expect(await rolesOf(accountId, subuser)).toEqual([DEVELOPER]);
    // Filled: a replica starting later asks access nothing.
    expect(await replicas[0].fillOnce(pacing)).toBe('already-filled');
    expect(access.asked).toBe(3);
  });

  it('gives its claim back when it fails half-way (access stopped answering), so that another replica goes on at once', async () => {
    await db.dataSource.query('UPDATE role_projection_backfill SET filled_at = NULL, lease_until = NULL');
    const { accountId, member } = await memberOfAccount();
    const items = [0, 1, 2].map((version) => ({ accountId, principal: member, roleIds: [ADMIN], version }));
    const failing = accessHolding(items);
    const send = failing.send.bind(failing);
    failing.send = ((subject: never, payload: never) =>
      failing.asked === 1 ? Promise.reject(new Error('access went away')) : send(subject, payload)) as typeof failing.send;
    await expect(new RoleProjectionBackfill(db.dataSource, projection, failing, logger).fillOnce(pacing)).rejects.toThrow('access went away');
    expect(await db.dataSource.query('SELECT filled_at, lease_until FROM role_projection_backfill')).toEqual([{ filled_at: null, lease_until: null }]);
    const working = accessHolding(items);
    expect(await new RoleProjectionBackfill(db.dataSource, projection, working, logger).fillOnce(pacing)).toBe('filled');
    expect(await rolesOf(accountId, member)).toEqual([ADMIN]);
  });
});

import { randomUUID } from 'node:crypto';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { PageQuery, type ApplicationView, type Page, type Principal } from '#libs/contracts/index.js';
import { encodeCursor } from '#libs/platform/index.js';
import { BUILTIN_ROLE_PREFIX } from '../checks/decision-store.js';
import { PrincipalActivityEntity } from '../principals/principal-activity.entity.js';
import { AccessRepository } from '../state/access-repository.js';
import { freshAccessServices } from '../state/services-harness-spec.js';

const access = freshAccessServices();
const client = { ip: '203.0.113.10' };
const NAMES = ['beta line', 'Alpha', 'alpha two', 'Gamma', 'delta', 'Epsilon line', 'zeta'];

/** A new account holding the applications of NAMES; their ids by name. */
async function accountWithApplications(): Promise<{ accountId: string; owner: Principal; ids: Map<string, string> }> {
  const { accountId, actor: owner } = await access.account();
  const ids = new Map<string, string>();
  for (const name of NAMES) ids.set(name, (await access.applications.create({ actor: owner, accountId, client, body: { name } })).id);
  return { accountId, owner, ids };
}

/** Every page `actor` is given with `limit` (and `search`), following the cursors. */
async function allPages(actor: Principal, accountId: string, limit: number, search?: string): Promise<Array<Page<ApplicationView>>> {
  const pages: Array<Page<ApplicationView>> = [];
  let cursor: string | undefined;
  do {
    const page = await access.applications.list({ actor, accountId, query: { limit, cursor, search } });
    pages.push(page);
    cursor = page.nextCursor ?? undefined;
  } while (cursor !== undefined && pages.length < 20);
  return pages;
}

const names = (pages: Array<Page<ApplicationView>>) => pages.flatMap((page) => page.items.map((item) => item.name));

describe("an account's applications, listed", () => {
  it('come by name, case ignored, each once, page after page, whatever the page size', async () => {
    const { accountId, owner } = await accountWithApplications();
    const byName = ['Alpha', 'alpha two', 'beta line', 'delta', 'Epsilon line', 'Gamma', 'zeta'];

    for (const limit of [1, 3, 7, 50]) {
      const pages = await allPages(owner, accountId, limit);
      expect(names(pages)).toEqual(byName);
      expect(pages).toHaveLength(Math.ceil(byName.length / limit));
      expect(pages.at(-1)!.nextCursor).toBeNull();
    }
  });

  it('are the first 50 when no query is given (a caller of the previous release)', async () => {
    const { accountId, actor: owner } = await access.account();
    await access.state.mutate(accountId, (manager) =>
      manager.query(
        `INSERT INTO applications (id, account_id, name) SELECT gen_random_uuid(), $1, 'App ' || lpad(n::text, 2, '0') FROM generate_series(1, 51) n`,
        [accountId],
      ),
    );
    const page = await access.applications.list({ actor: owner, accountId });
    expect(page.items.map((item) => item.name)).toEqual(Array.from({ length: 50 }, (_, n) => `App ${String(n + 1).padStart(2, '0')}`));
    expect(page.nextCursor).not.toBeNull();
  });

  it('page past the longest names there can be, with cursors a client may send back', async () => {
    const { accountId, actor: owner } = await access.account();
    const longest = ['😀'.repeat(100), `${'😀'.repeat(99)}a`, 'ß'.repeat(100)];
    for (const name of longest) await access.applications.create({ actor: owner, accountId, client, body: { name } });
    const pages = await allPages(owner, accountId, 1);
    expect(names(pages).sort()).toEqual([...longest].sort());
    for (const page of pages.slice(0, -1)) expect(validateSync(plainToInstance(PageQuery, { cursor: page.nextCursor }))).toEqual([]);
  });

  it('keep only the names that contain the search, case ignored, across pages', async () => {
    const { accountId, owner } = await accountWithApplications();
    expect(names(await allPages(owner, accountId, 1, 'LINE'))).toEqual(['beta line', 'Epsilon line']);
    expect(names(await allPages(owner, accountId, 2, 'alpha'))).toEqual(['Alpha', 'alpha two']);
    expect(names(await allPages(owner, accountId, 2, '%'))).toEqual([]);
  });

  it('are only those a principal limited to some applications holds something in; none for a stranger or an inactive member', async () => {
    const { accountId, owner, ids } = await accountWithApplications();
    const limited: Principal = { type: 'subuser', id: randomUUID() };
    await access.bind(accountId, limited, `${BUILTIN_ROLE_PREFIX}Developer`, [ids.get('zeta')!, ids.get('Alpha')!]);
    const dormant: Principal = { type: 'user', id: randomUUID() };
    await access.bind(accountId, dormant, `${BUILTIN_ROLE_PREFIX}Developer`);
    await access.state.mutate(accountId, (manager) =>
      manager.insert(PrincipalActivityEntity, { accountId, principalType: 'user', principalId: dormant.id, active: false, changedAt: new Date() }),
    );

    expect(names(await allPages(limited, accountId, 1))).toEqual(['Alpha', 'zeta']);
    expect(names(await allPages({ type: 'user', id: randomUUID() }, accountId, 10))).toEqual([]);
    expect(names(await allPages(dormant, accountId, 10))).toEqual([]);
    expect(names(await allPages(owner, accountId, 10))).toHaveLength(NAMES.length);
  });

  it('wait for a reload of the account under way (a change of bindings made on another replica), and are refused while it has failed', async () => {
    const { accountId, ids } = await accountWithApplications();
    const limited: Principal = { type: 'subuser', id: randomUUID() };
    await access.bind(accountId, limited, `${BUILTIN_ROLE_PREFIX}Developer`, [ids.get('delta')!]);
    // Another replica binds it to one more application; its broadcast starts this replica's reload, which has not read yet.
    await access.database.query(
      `INSERT INTO access.bindings (id, account_id, principal_type, principal_id, role_id, application_ids) VALUES ($1, $2, 'subuser', $3, $4, $5)`,
      [randomUUID(), accountId, limited.id, `${BUILTIN_ROLE_PREFIX}Developer`, [ids.get('Gamma')!]],
    );
    let read!: () => void;
    const readNow = new Promise<void>((resolve) => (read = resolve));
    const repository = new AccessRepository(access.dataSource);
    const reload = access.store.refresh(accountId, () => readNow.then(() => repository.loadAccount(accountId)));

    const listed = access.applications.list({ actor: limited, accountId });
    read();
    await reload;
    expect((await listed).items.map((item) => item.name)).toEqual(['delta', 'Gamma']);

    await access.store.refresh(accountId, () => Promise.reject(new Error('PostgreSQL restarting'))).catch(() => undefined);
    await expect(access.applications.list({ actor: limited, accountId })).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
  });

  it('stay within their account', async () => {
    const first = await accountWithApplications();
    const second = await accountWithApplications();
    const seen = (await allPages(first.owner, first.accountId, 50)).flatMap((page) => page.items.map((item) => item.id));
    expect(seen.sort()).toEqual([...first.ids.values()].sort());
    expect(seen.some((id) => [...second.ids.values()].includes(id))).toBe(false);
  });

  it.each([
    ['not base64 of a list', 'bm90IGEgbGlzdA'],
    ['of another sort', encodeCursor(['created', 'alpha', randomUUID()])],
    ['with an id that is not a UUID', encodeCursor(['name', 'alpha', 'x'])],
  ])('refuse a cursor %s with 400 naming the cursor', async (_label, cursor) => {
    const { accountId, actor: owner } = await access.account();
    await expect(access.applications.list({ actor: owner, accountId, query: { cursor } })).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
      details: { field: 'cursor' },
    });
  });
});

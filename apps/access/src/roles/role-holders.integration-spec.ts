import { randomUUID } from 'node:crypto';
import type { Page, Principal, RoleHolderView } from '#libs/contracts/index.js';
import { BUILTIN_ROLE_PREFIX } from '../checks/decision-store.js';
import { freshAccessServices } from '../state/services-harness-spec.js';

const access = freshAccessServices();
const client = { ip: '203.0.113.10' };
const DEVELOPER = `${BUILTIN_ROLE_PREFIX}Developer`;

/** Every holder of the role `owner` is given with `limit`, following the cursors, and how many pages it took. */
async function allHolders(owner: Principal, accountId: string, roleId: string, limit: number): Promise<{ holders: RoleHolderView[]; pages: number }> {
  const pages: Array<Page<RoleHolderView>> = [];
  let cursor: string | undefined;
  do {
    const page = await access.roles.holders({ actor: owner, accountId, roleId, query: { limit, cursor } });
    pages.push(page);
    cursor = page.nextCursor ?? undefined;
  } while (cursor !== undefined && pages.length < 50);
  return { holders: pages.flatMap((page) => page.items), pages: pages.length };
}

const user = (): Principal => ({ type: 'user', id: randomUUID() });
const subuser = (): Principal => ({ type: 'subuser', id: randomUUID() });

describe('one role of an account', () => {
  it('is the built-in or custom role as the list shows it, with its holders counted', async () => {
    const { accountId, actor: owner } = await access.account();
    const role = await access.roles.create({ actor: owner, accountId, client, body: { name: 'Auditor', grants: [{ section: 'logs', actions: ['read'] }] } });
    await access.bindings.replace({ actor: owner, accountId, principal: user(), bindings: [{ role: role.id }, { role: 'Developer' }] });
    const listed = await access.roles.list({ actor: owner, accountId });

    for (const roleId of [role.id, role.id.toUpperCase(), DEVELOPER]) {
      const got = await access.roles.get({ actor: owner, accountId, roleId });
      expect(got).toEqual(listed.find((candidate) => candidate.id === roleId.toLowerCase() || candidate.id === roleId));
      expect(got.holders).toBe(1);
    }
  });

  it("is NOT_FOUND for an id that names no role, a role's name, and another account's role", async () => {
    const { accountId, actor: owner } = await access.account();
    const other = await access.account();
    const theirs = await access.roles.create({ actor: other.actor, accountId: other.accountId, client, body: { name: 'Theirs', grants: [] } });
    await access.roles.create({ actor: owner, accountId, client, body: { name: 'Ours', grants: [] } });

    for (const roleId of [randomUUID(), 'Ours', 'Developer', `${BUILTIN_ROLE_PREFIX}Nobody`, theirs.id]) {
      await expect(access.roles.get({ actor: owner, accountId, roleId })).rejects.toMatchObject({ code: 'NOT_FOUND', message: 'Role not found' });
      await expect(access.roles.holders({ actor: owner, accountId, roleId })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    }
  });
});

describe("a role's holders", () => {
  it('are those bound to it, where they hold it, gone once unbound; never the owner, as its count', async () => {
    const { accountId, owner, admin, subuser: limited, first } = await access.accountWithSubuser();
    const held = (roleId: string) => access.roles.holders({ actor: owner, accountId, roleId });

    expect(await held(DEVELOPER)).toEqual({ items: [{ principal: limited, applicationIds: [first] }], nextCursor: null });
    expect(await held(`${BUILTIN_ROLE_PREFIX}Admin`)).toEqual({ items: [{ principal: admin, applicationIds: null }], nextCursor: null });
    // The owner holds every role's permissions through ownership, not a binding: neither listed nor counted.
    expect((await access.roles.get({ actor: owner, accountId, roleId: `${BUILTIN_ROLE_PREFIX}Admin` })).holders).toBe(1);

    await access.bindings.replace({ actor: owner, accountId, principal: limited, bindings: [{ role: 'Support', applicationIds: [first] }] });
    expect(await held(DEVELOPER)).toEqual({ items: [], nextCursor: null });
    expect((await access.roles.get({ actor: owner, accountId, roleId: DEVELOPER })).holders).toBe(0);
  });

  it('come by type then id, each once, page after page, over more holders than a page', async () => {
    const { accountId, actor: owner } = await access.account();
    const principals = [...Array.from({ length: 7 }, user), ...Array.from({ length: 5 }, subuser)];
    for (const principal of principals) await access.bind(accountId, principal, DEVELOPER);
    const expected = principals.map((principal) => `${principal.type}:${principal.id}`).sort();

    for (const limit of [1, 5, 12, 50]) {
      const { holders, pages } = await allHolders(owner, accountId, DEVELOPER, limit);
      expect(holders.map(({ principal }) => `${principal.type}:${principal.id}`)).toEqual(expected);
      expect(pages).toBe(Math.ceil(expected.length / limit));
    }
    expect((await access.roles.get({ actor: owner, accountId, roleId: DEVELOPER })).holders).toBe(principals.length);
  });

  it('show a caller limited to some applications only those of where a role is held (as its list of applications does)', async () => {
    const { accountId, subuser: limited, first, second } = await access.accountWithSubuser();
    const other = subuser();
    await access.bind(accountId, other, DEVELOPER, [first, second]);
    const visible = (await access.applications.list({ actor: limited, accountId })).items.map((application) => application.id);
    expect(visible).toEqual([first]);
    const page = await access.roles.holders({ actor: limited, accountId, roleId: DEVELOPER });
    expect(page.items.find(({ principal }) => principal.id === other.id)?.applicationIds).toEqual([first]);
  });
});

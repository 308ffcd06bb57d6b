import type { RoleHoldingsOfPrincipal } from '#libs/contracts/index.js';
import { BUILTIN_ROLE_PREFIX } from '../checks/decision-store.js';
import { freshAccessServices } from '../state/services-harness-spec.js';

const access = freshAccessServices();

/** Every page of `access.role-holdings.page`, `limit` a page, followed from the first cursor to the last. */
function everyPage(limit: number): RoleHoldingsOfPrincipal[][] {
  const pages: RoleHoldingsOfPrincipal[][] = [];
  let cursor: string | null = null;
  do {
    const page = access.bindings.roleHoldings({ cursor, limit });
    pages.push(page.items);
    cursor = page.nextCursor;
  } while (cursor !== null);
  return pages;
}

describe('every principal holding a role, a page at a time (access.role-holdings.page, the backfill of identity)', () => {
  it("lists each bound principal once, by account then principal, with its roles once each and its account's version; never the owner", async () => {
    const one = await access.accountWithSubuser();
    const two = await access.accountWithSubuser();
    const pages = everyPage(2);
    expect(pages.map((page) => page.length)).toEqual([2, 2]);
    const items = pages.flat();
    const expected = [one, two].flatMap(({ accountId, admin, subuser }) => [
      {
        accountId,
        principal: subuser,
        roleIds: [`${BUILTIN_ROLE_PREFIX}Developer`, `${BUILTIN_ROLE_PREFIX}Support`],
        version: access.store.versionOf(accountId),
      },
      { accountId, principal: admin, roleIds: [`${BUILTIN_ROLE_PREFIX}Admin`], version: access.store.versionOf(accountId) },
    ]);
    const order = (item: RoleHoldingsOfPrincipal) => `${item.accountId} ${item.principal.type}:${item.principal.id}`;
    expect(items).toEqual(expected.sort((a, b) => (order(a) < order(b) ? -1 : 1)));
    expect(everyPage(1000).flat()).toEqual(items);
  });

  it('refuses a cursor it did not give (VALIDATION_FAILED naming cursor)', () => {
    expect(() => access.bindings.roleHoldings({ cursor: 'bm9wZQ' })).toThrow(
      expect.objectContaining({ code: 'VALIDATION_FAILED', details: { field: 'cursor' } }),
    );
  });
});

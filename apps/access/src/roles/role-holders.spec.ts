import type { Principal, RoleHolderView } from '#libs/contracts/index.js';
import { encodeCursor } from '#libs/platform/index.js';
import { heldApplications, holdersPage } from './role-holders.js';

const ROLE = 'builtin:Developer';
const uuid = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const holder = (type: Principal['type'], n: number): RoleHolderView => ({ principal: { type, id: uuid(n) }, applicationIds: null });

describe('where a principal holds a role', () => {
  it.each([
    ['one unlimited binding', [{ roleId: ROLE, applicationIds: null }], null],
    [
      'an unlimited binding beside a limited one',
      [
        { roleId: ROLE, applicationIds: [uuid(2)] },
        { roleId: ROLE, applicationIds: null },
      ],
      null,
    ],
    ['one limited binding', [{ roleId: ROLE, applicationIds: [uuid(3), uuid(1)] }], [uuid(1), uuid(3)]],
    [
      'two limited bindings, an application in both',
      [
        { roleId: ROLE, applicationIds: [uuid(2), uuid(1)] },
        { roleId: ROLE, applicationIds: [uuid(1)] },
      ],
      [uuid(1), uuid(2)],
    ],
    [
      'its limited binding of this role, not the unlimited one of another',
      [
        { roleId: 'builtin:Admin', applicationIds: null },
        { roleId: ROLE, applicationIds: [uuid(4)] },
      ],
      [uuid(4)],
    ],
  ])('%s', (_case, bindings, expected) => {
    expect(heldApplications(bindings, ROLE)).toEqual(expected);
  });
});

describe("a page of a role's holders", () => {
  const holders = [holder('user', 3), holder('subuser', 9), holder('user', 1), holder('subuser', 2), holder('user', 2)];
  const order = ['subuser:2', 'subuser:9', 'user:1', 'user:2', 'user:3'];
  const keys = (items: RoleHolderView[]) => items.map(({ principal }) => `${principal.type}:${Number(principal.id.slice(-12))}`);

  it('gives each holder once, by type then id, page after page, the last page with no cursor', () => {
    for (const limit of [1, 2, 4, 5, 50]) {
      const seen: RoleHolderView[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = holdersPage(holders, { limit, cursor });
        seen.push(...page.items);
        cursor = page.nextCursor ?? undefined;
        pages += 1;
      } while (cursor !== undefined && pages < 10);
      expect(keys(seen)).toEqual(order);
      expect(pages).toBe(Math.ceil(order.length / limit));
    }
  });

  it('gives 50 by default', () => {
    const many = Array.from({ length: 51 }, (_, n) => holder('user', n));
    const page = holdersPage(many);
    expect(page.items).toHaveLength(50);
    expect(page.nextCursor).not.toBeNull();
    expect(holdersPage(many, { cursor: page.nextCursor! }).items).toEqual([many[50]]);
  });

  it('goes on after the last holder given, even once that holder is gone', () => {
    const first = holdersPage(holders, { limit: 2 });
    const without = holders.filter(({ principal }) => principal.id !== uuid(9) || principal.type !== 'subuser');
    expect(keys(holdersPage(without, { limit: 2, cursor: first.nextCursor! }).items)).toEqual(['user:1', 'user:2']);
  });

  it.each([
    ['another sort', encodeCursor(['name', 'user', uuid(1)])],
    ['a principal type that is none', encodeCursor(['holders', 'robot', uuid(1)])],
    ['an id that is no UUID', encodeCursor(['holders', 'user', 'x'])],
    ['no JSON', 'bm90IGpzb24'],
  ])('refuses a cursor of %s (400 naming cursor)', (_case, cursor) => {
    expect(() => holdersPage(holders, { cursor })).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED', details: { field: 'cursor' } }));
  });
});

import type { Principal, RoleHolderView } from '#libs/contracts/index.js';
import { encodeCursor } from '#libs/platform/index.js';
import { heldApplications, holdersPage, shownApplications } from './role-holders.js';

const ROLE = 'builtin:Developer';
const uuid = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const holder = (type: Principal['type'], n: number): Principal => ({ type, id: uuid(n) });
const describeHolder = (principal: Principal): RoleHolderView => ({ principal, applicationIds: null });

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
        const page = holdersPage(holders, { limit, cursor }, describeHolder);
        seen.push(...page.items);
        cursor = page.nextCursor ?? undefined;
        pages += 1;
      } while (cursor !== undefined && pages < 10);
      expect(keys(seen)).toEqual(order);
      expect(pages).toBe(Math.ceil(order.length / limit));
    }
  });

  it('gives many holders in any order page after page, each once, in order', () => {
    const many = Array.from({ length: 500 }, (_, n) => holder(n % 3 === 0 ? 'subuser' : 'user', (n * 7919) % 1000));
    const seen: RoleHolderView[] = [];
    let cursor: string | undefined;
    do {
      const page = holdersPage(many, { limit: 7, cursor }, describeHolder);
      seen.push(...page.items);
      cursor = page.nextCursor ?? undefined;
    } while (cursor !== undefined);
    const sorted = many.map((principal) => `${principal.type}:${principal.id}`).sort();
    expect(seen.map(({ principal }) => `${principal.type}:${principal.id}`)).toEqual(sorted);
  });

  it('gives 50 by default', () => {
    const many = Array.from({ length: 51 }, (_, n) => holder('user', n));
    const page = holdersPage(many, undefined, describeHolder);
    expect(page.items).toHaveLength(50);
    expect(page.nextCursor).not.toBeNull();
    expect(holdersPage(many, { cursor: page.nextCursor! }, describeHolder).items).toEqual([describeHolder(many[50])]);
  });

  it('goes on after the last holder given, even once that holder is gone', () => {
    const first = holdersPage(holders, { limit: 2 }, describeHolder);
    const without = holders.filter((principal) => principal.id !== uuid(9) || principal.type !== 'subuser');
    expect(keys(holdersPage(without, { limit: 2, cursor: first.nextCursor! }, describeHolder).items)).toEqual(['user:1', 'user:2']);
  });

  it.each([
    ['another sort', encodeCursor(['name', 'user', uuid(1)])],
    ['a principal type that is none', encodeCursor(['holders', 'robot', uuid(1)])],
    ['an id that is no UUID', encodeCursor(['holders', 'user', 'x'])],
    ['no JSON', 'bm90IGpzb24'],
  ])('refuses a cursor of %s (400 naming cursor)', (_case, cursor) => {
    expect(() => holdersPage(holders, { cursor }, describeHolder)).toThrow(
      expect.objectContaining({ code: 'VALIDATION_FAILED', details: { field: 'cursor' } }),
    );
  });

  it('describes only the holders of the page (their bindings are walked for those alone)', () => {
    const described: string[] = [];
    const page = holdersPage(holders, { limit: 2 }, (principal) => {
      described.push(`${principal.type}:${Number(principal.id.slice(-12))}`);
      return describeHolder(principal);
    });
    expect(keys(page.items)).toEqual(['subuser:2', 'subuser:9']);
    expect(described).toEqual(['subuser:2', 'subuser:9']);
  });

  it('takes a query of null as none: the first page (never a crash of access)', () => {
    expect(keys(holdersPage(holders, null, describeHolder).items)).toEqual(order);
  });
});

describe('where a holder holds a role, as a caller who sees some applications is shown it', () => {
  it.each<[string, string[] | null, 'all' | string[], string[] | null]>([
    ['every application: as it is', null, [uuid(1)], null],
    ['a caller who sees every application: all of them', [uuid(1), uuid(2)], 'all', [uuid(1), uuid(2)]],
    ['a caller limited to some: those alone', [uuid(1), uuid(2), uuid(3)], [uuid(3), uuid(1)], [uuid(1), uuid(3)]],
    ['a caller who sees none of them: none', [uuid(2)], [uuid(1)], []],
  ])('%s', (_case, held, visible, expected) => {
    expect(shownApplications(held, visible)).toEqual(expected);
  });
});

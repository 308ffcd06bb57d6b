import { encodeCursor } from '#libs/platform/index.js';
import { nextUserCursor, userTableSql } from './user-table.js';

const accountId = '5f0c8a3e-1d1a-4c9e-9a52-1f7d2b0f6a10';
const actor = { type: 'user' as const, id: 'a1b2c3d4-0000-4000-8000-000000000001' };
const otherId = 'a1b2c3d4-0000-4000-8000-000000000002';

describe('userTableSql', () => {
  it('scopes every page to the account and folds the search like the indexed text', () => {
    const { sql, parameters } = userTableSql({ accountId, actor, search: 'Zoé', largeAccount: false, sort: 'name', order: 'asc', limit: 50 });
    expect(sql).toContain('m.account_id = $1');
    expect(sql).toContain('me.account_id = $1 AND me.user_id = $2 AND me.active');
    expect(sql).toContain("LIKE ('%' || replace(replace(replace(identity.fold($3), '\\', '\\\\'), '%', '\\%'), '_', '\\_') || '%')");
    expect(sql).toMatch(/ORDER BY m.sort_name ASC, m.user_id ASC\s+LIMIT \$4/);
    expect(parameters).toEqual([accountId, actor.id, 'Zoé', 51]);
  });

  it.each([
    ['email', 'asc', 'm.email_lower', '>', 'text', 'ada@example.test'],
    ['createdAt', 'desc', 'm.created_at', '<', 'timestamptz', '2026-01-01T10:00:00.123456Z'],
    ['lastLoginAt', 'asc', "COALESCE(m.last_login_at, '-infinity'::timestamptz)", '>', 'timestamptz', '-infinity'],
  ] as const)('continues after the cursor for %s %s', (sort, order, expression, comparison, type, sortKey) => {
    const cursor = nextUserCursor({ accountId, actor, sort, order, limit: 10 }, { sortKey, id: otherId });
    const { sql, parameters } = userTableSql({ accountId, actor, sort, order, limit: 10, cursor });
    expect(sql).toContain(`(${expression}, m.user_id) ${comparison} ($3::${type}, $4::uuid)`);
    expect(parameters).toEqual([accountId, actor.id, sortKey, otherId, 11]);
  });

  it('gives times in cursors exactly, in UTC, whatever the DateStyle', () => {
    const { sql } = userTableSql({ accountId, actor, sort: 'createdAt', order: 'asc', limit: 10 });
    expect(sql).toContain('m.created_at AS sort_value');
    expect(sql).toContain(`to_char(m.sort_value AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`);
  });

  it('keeps small accounts off the trigram index (reading their rows is cheaper)', () => {
    const small = userTableSql({ accountId, actor, search: 'zoe', largeAccount: false, sort: 'name', order: 'asc', limit: 50 }).sql;
    expect(small).toContain("(m.search || '') LIKE ('%' || replace(replace(replace(identity.fold($3)");
    const large = userTableSql({ accountId, actor, search: 'zoe', largeAccount: true, sort: 'name', order: 'asc', limit: 50 }).sql;
    expect(large).toContain("m.search LIKE ('%' || replace(replace(replace(identity.fold($3)");
  });

  it("bounds a large account's search by its plan, given as parameters after the page's", () => {
    const plan = { probeMatches: 7, walkEntries: 70 };
    const { sql, parameters } = userTableSql({ accountId, actor, search: 'zoe', largeAccount: true, sort: 'name', order: 'desc', limit: 50 }, plan);
    expect(parameters).toEqual([accountId, actor.id, 'zoe', 51, 7, 70]);
    expect(sql).toMatch(/m\.search LIKE .* LIMIT \$5\)/);
    expect(sql).toMatch(/ORDER BY m\.sort_name DESC, m\.user_id DESC LIMIT \$6\) AS w/);
    expect(sql).toContain('OFFSET $6 - 1 LIMIT 1');
    expect(sql).toContain('(x.sort_value, x.user_id) < (SELECT b.sort_value, b.user_id FROM boundary b)');
  });

  it('asks once whether the actor works in the account, outside the page', () => {
    const { sql } = userTableSql({ accountId, actor, search: 'zoe', largeAccount: true, sort: 'name', order: 'asc', limit: 50 });
    expect(sql.match(/FROM memberships me WHERE/g)).toHaveLength(1);
    expect(sql).toMatch(
      /WHERE EXISTS \(SELECT 1 FROM memberships me WHERE me\.account_id = \$1 AND me\.user_id = \$2 AND me\.active\)\s+ORDER BY m\.sort_value ASC/,
    );
  });

  it('scopes a subuser actor by its own account', () => {
    expect(userTableSql({ accountId, actor: { type: 'subuser', id: 's' }, sort: 'name', order: 'asc', limit: 1 }).sql).toContain(
      'FROM subusers me WHERE me.account_id = $1 AND me.id = $2 AND me.active',
    );
  });

  it('refuses a cursor made for another sort', () => {
    const cursor = encodeCursor(['email', 'asc', 'k', otherId]);
    expect(() => userTableSql({ accountId, actor, sort: 'name', order: 'asc', limit: 10, cursor })).toThrow(
      expect.objectContaining({ code: 'VALIDATION_FAILED' }),
    );
  });

  it.each([
    ['createdAt', ['createdAt', 'asc', 'yesterday', otherId]],
    ['createdAt', ['createdAt', 'asc', '2026-02-30 10:00:00+00', otherId]],
    ['lastLoginAt', ['lastLoginAt', 'asc', '2026-01-01T10:00:00Z', 'not-a-uuid']],
    ['name', ['name', 'asc', 'ada\u0000', otherId]],
  ] as const)('refuses a %s cursor changed by hand (%j) before any query', (sort, parts) => {
    const cursor = encodeCursor([...parts]);
    expect(() => userTableSql({ accountId, actor, sort, order: 'asc', limit: 10, cursor })).toThrow(
      expect.objectContaining({ code: 'VALIDATION_FAILED', details: { field: 'cursor' } }),
    );
  });
});

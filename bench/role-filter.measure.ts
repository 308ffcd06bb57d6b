/**
 * Measures the user table's `role` filter (docs/identity.md has the results): one account of
 * 100,000 members in a database of its own (`portico_bench_role_filter`, migrated like production),
 * `builtin:Admin` held by 1 % of them (spread through every order), `builtin:Support` by 5 %, `builtin:Developer` by 90 %,
 * and `builtin:Night` by 2 % who all sort last by name (the bounded walk's bad case). Each role,
 * each sort and order: the first page of 50 and the page after it (a cursor), as identity runs them
 * (the plan chosen by counting the holders) and the first page by the other plan, median of 5 runs after one warm-up. Standalone:
 * `node dist/bench/role-filter.measure.js` (TEST_DATABASE_URL or DATABASE_URL: the server).
 */
import { execFileSync } from 'node:child_process';
import pg from 'pg';
import { SORT_ORDERS, USER_SORTS } from '#libs/contracts/index.js';
import { FEW_ROLE_HOLDERS, nextUserCursor, userTableSql, type UserTableRequest } from '../apps/identity/src/users/user-table.js';

const DATABASE = 'portico_bench_role_filter';
const MEMBERS = 100_000;
const ROLES = { 'builtin:Admin': '1 %', 'builtin:Support': '5 %', 'builtin:Developer': '90 %', 'builtin:Night': '2 %, sorting last by name' } as const;

async function seed(serverUrl: string): Promise<pg.Client> {
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${DATABASE}`);
  await admin.query(`CREATE DATABASE ${DATABASE}`);
  await admin.end();
  const url = new URL(serverUrl);
  url.pathname = `/${DATABASE}`;
  execFileSync(process.execPath, ['dist/tools/migrate.js'], { env: { ...process.env, DATABASE_URL: url.toString() }, stdio: 'ignore' });
  const client = new pg.Client({ connectionString: url.toString(), options: '-c search_path=identity,public -c jit=off' });
  await client.connect();
  const account = '00000000-0000-4000-8000-000000000001';
  await client.query(`
    INSERT INTO users (id, email, first_name, last_name, phone, password_hash, status, created_at, last_login_at)
    SELECT md5('u' || i)::uuid, 'p' || i || '@m.test', 'First' || (i % 997), CASE WHEN i % 50 = 0 THEN 'Zz' ELSE 'Last' END || (i % 1009),
           '+3361' || lpad(i::text, 7, '0'), 'x', 'active', now() - (i % 5000) * interval '1 hour',
           CASE WHEN i % 5 = 0 THEN NULL ELSE now() - (i % 997) * interval '1 hour' END
      FROM generate_series(1, ${MEMBERS}) AS i`);
  await client.query(`INSERT INTO accounts (id, name, slug, owner_user_id) VALUES ($1, 'Large', 'large', md5('u1')::uuid)`, [account]);
  await client.query(
    `INSERT INTO memberships (account_id, user_id, active, created_at, last_login_at)
     SELECT $1, id, true, created_at, last_login_at FROM users`,
    [account],
  );
  await client.query(
    `
    INSERT INTO role_holdings (account_id, principal_type, principal_id, role_id)
    SELECT $1, 'user', md5('u' || i)::uuid, role
      FROM generate_series(1, ${MEMBERS}) AS i,
           LATERAL (SELECT 'builtin:Admin' AS role WHERE abs(hashtext('a' || i)) % 100 = 0
                    UNION ALL SELECT 'builtin:Support' WHERE abs(hashtext('s' || i)) % 20 = 0
                    UNION ALL SELECT 'builtin:Developer' WHERE abs(hashtext('d' || i)) % 10 <> 0
                    UNION ALL SELECT 'builtin:Night' WHERE i % 50 = 0) AS held`,
    [account],
  );
  await client.query('VACUUM (ANALYZE) users, memberships, accounts, role_holdings');
  return client;
}

async function timed(client: pg.Client, request: UserTableRequest): Promise<{ ms: number; rows: Array<{ id: string; sortKey: string }> }> {
  const { sql, parameters } = userTableSql(request);
  const started = process.hrtime.bigint();
  const { rows } = await client.query<{ id: string; sortKey: string }>(sql, parameters);
  return { ms: Number(process.hrtime.bigint() - started) / 1e6, rows };
}

async function median(client: pg.Client, request: UserTableRequest): Promise<number> {
  await timed(client, request);
  const runs: number[] = [];
  for (let run = 0; run < 5; run++) runs.push((await timed(client, request)).ms);
  return runs.sort((a, b) => a - b)[2];
}

const serverUrl = process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const client = await seed(serverUrl);
const [{ id: actor }] = (await client.query<{ id: string }>(`SELECT owner_user_id AS id FROM accounts`)).rows;
const [{ id: accountId }] = (await client.query<{ id: string }>(`SELECT id FROM accounts`)).rows;
for (const [role, share] of Object.entries(ROLES)) {
  const [{ holders }] = (await client.query<{ holders: number }>('SELECT count(*)::int AS holders FROM role_holdings WHERE role_id = $1', [role])).rows;
  const fewHolders = holders <= FEW_ROLE_HOLDERS;
  process.stdout.write(`${role} (${share}: ${holders} holders; ${fewHolders ? 'holders first' : 'walk'})\n`);
  for (const sort of USER_SORTS) {
    for (const order of SORT_ORDERS) {
      const request: UserTableRequest = { accountId, actor: { type: 'user', id: actor }, roleIds: [role], fewHolders, sort, order, limit: 50 };
      const first = await median(client, request);
      const { rows } = await timed(client, request);
      const next = await median(client, { ...request, cursor: nextUserCursor(request, rows[49]) });
      const unfiltered = await median(client, { ...request, roleIds: undefined, fewHolders: undefined });
      // The plan not chosen, for the same first page: what the threshold saves.
      const other = await median(client, { ...request, fewHolders: !fewHolders });
      process.stdout.write(
        `  ${sort} ${order}: first page ${first.toFixed(1)} ms, next ${next.toFixed(1)} ms (unfiltered ${unfiltered.toFixed(1)} ms; the other plan ${other.toFixed(1)} ms)\n`,
      );
    }
  }
}
await client.end();

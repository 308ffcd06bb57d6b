/**
 * Seeds the S1 benchmark database: 1,000,000 people over 1,000 accounts (1,000 each), plus one
 * large account that also holds 200,000 of them (a tenant of the kind that breaks naive search).
 * Names carry accents (Zoé, Núñez, Müller ...), phones are E.164. Set-based SQL (generate_series),
 * into its own database (`portico_bench_user_table`), migrated like production. Re-running keeps
 * an already complete database. Standalone: `node dist/bench/seed-user-table.js`.
 */
import { execFileSync } from 'node:child_process';
import pg from 'pg';

/** How many people, accounts, and members of the large account. */
export const SEED = { users: 1_000_000, accounts: 1_000, largeAccountExtra: 200_000 } as const;
/** The benchmark's own database. */
export const BENCH_DATABASE = 'portico_bench_user_table';

const FIRST = [
  'Zoé',
  'Zoe',
  'José',
  'Émile',
  'Ada',
  'Grace',
  'Linus',
  'Margaret',
  'Chloé',
  'Hélène',
  'Jean',
  'Marie',
  'Mohammed',
  'Aïcha',
  'Søren',
  'Björn',
  'Łukasz',
  'François',
  'Noémie',
  'Inès',
  'Chen',
  'Wei',
  'Yuki',
  'Priya',
  'Olga',
  'Jürgen',
  'Ana',
  'Mateo',
  'Lucía',
  'Giulia',
  'Marco',
  'Fatima',
  'Omar',
  'Sofia',
  'Liam',
  'Emma',
  'Noah',
  'Mia',
  'Raphaël',
  'Andrés',
];
const LAST = [
  'Dupré',
  'Martin',
  'Núñez',
  'Müller',
  'Åberg',
  'Lefèvre',
  'García',
  'Rossi',
  'Smith',
  'Nguyen',
  'Kowalski',
  'Öztürk',
  'Dubois',
  'Moreau',
  'Petit',
  'Durand',
  'Leroy',
  'Fernández',
  'López',
  'González',
  'Schmidt',
  'Schneider',
  'Fischer',
  'Weber',
  'Meyer',
  'Wagner',
  'Becker',
  'Hoffmann',
  'Kim',
  'Lee',
  'Park',
  'Wang',
  'Li',
  'Zhang',
  'Liu',
  'Chen',
  'Yamamoto',
  'Tanaka',
  'Suzuki',
  'Sato',
  'Ivanov',
  'Smirnov',
  'Kuznetsov',
  'Popov',
  'Hansen',
  'Johansson',
  'Nielsen',
  'Jensen',
  'Andersen',
  'Pedersen',
  'Silva',
  'Santos',
  'Oliveira',
  'Souza',
  'Costa',
  'Pereira',
  'Almeida',
  'Ferreira',
  'Rodrigues',
  'Gómez',
];
const DOMAINS = ['example.com', 'mail.test', 'corp.test', 'acme.test', 'globex.test', 'initech.test', 'umbrella.test', 'hooli.test'];

/** The URL of the bench database on the server at `serverUrl`. */
export function benchDatabaseUrl(serverUrl: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${BENCH_DATABASE}`;
  return url.toString();
}

/** Creates, migrates and fills the bench database unless it is already complete. Returns its URL and whether it was seeded now. */
export async function seedUserTable(serverUrl: string, log: (line: string) => void = () => undefined): Promise<{ url: string; seededNow: boolean }> {
  const url = benchDatabaseUrl(serverUrl);
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  const exists = (await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [BENCH_DATABASE])).rowCount === 1;
  if (!exists) await admin.query(`CREATE DATABASE ${BENCH_DATABASE}`);
  await admin.end();
  execFileSync(process.execPath, ['dist/tools/migrate.js'], { env: { ...process.env, DATABASE_URL: url }, stdio: 'ignore' });
  const client = new pg.Client({ connectionString: url, options: '-c search_path=identity,public' });
  await client.connect();
  try {
    // Deterministic ids that are valid version-4 UUIDs (the services validate them as such).
    await client.query(
      `CREATE OR REPLACE FUNCTION public.bench_uuid(seed text) RETURNS uuid LANGUAGE sql IMMUTABLE
         AS $$ SELECT overlay(overlay(md5(seed) PLACING '4' FROM 13 FOR 1) PLACING '8' FROM 17 FOR 1)::uuid $$`,
    );
    const [{ count }] = (await client.query<{ count: string }>('SELECT count(*) FROM memberships')).rows;
    if (Number(count) === SEED.users + SEED.largeAccountExtra) return { url, seededNow: false };
    await fill(client, log);
    return { url, seededNow: true };
  } finally {
    await client.end();
  }
}

async function fill(client: pg.Client, log: (line: string) => void): Promise<void> {
  const step = async (label: string, sql: string) => {
    const started = Date.now();
    await client.query(sql);
    log(`  ${label}: ${((Date.now() - started) / 1000).toFixed(1)} s`);
  };
  const array = (values: string[]) => `ARRAY[${values.map((value) => `'${value}'`).join(',')}]`;
  await step('emptying', 'TRUNCATE memberships, action_tokens, sessions, subusers, accounts, users CASCADE');
  await step(
    `${SEED.users} users`,
    `INSERT INTO users (id, email, first_name, last_name, phone, password_hash, status, created_at, last_login_at)
     SELECT bench_uuid('user' || i),
            lower(public.unaccent(f)) || '.' || lower(public.unaccent(l)) || i || '@' || d,
            f, l, '+336' || lpad((abs(hashtext('phone' || i)) % 100000000)::text, 8, '0'), NULL,
            CASE WHEN i % 10 = 0 THEN 'pending' ELSE 'active' END,
            now() - (i % 5000) * interval '1 hour',
            CASE WHEN i % 5 = 0 THEN NULL ELSE now() - (i % 997) * interval '1 hour' END
       FROM generate_series(1::bigint, ${SEED.users}) AS i,
            LATERAL (SELECT (${array(FIRST)})[1 + abs(hashtext('first' || i)) % ${FIRST.length}] AS f,
                            (${array(LAST)})[1 + abs(hashtext('last' || i)) % ${LAST.length}] AS l,
                            (${array(DOMAINS)})[1 + abs(hashtext('domain' || i)) % ${DOMAINS.length}] AS d) AS names`,
  );
  await step(
    `${SEED.accounts} accounts`,
    `INSERT INTO accounts (id, name, slug, owner_user_id)
     SELECT bench_uuid('account' || a), 'Account ' || a, 'account-' || a, bench_uuid('user' || (a + 1)) FROM generate_series(0, ${SEED.accounts - 1}) AS a`,
  );
  // The trigger fills the search columns row by row; set-based, with the same SQL functions, is much faster.
  await step('disabling the fill trigger', 'ALTER TABLE memberships DISABLE TRIGGER memberships_fill_person');
  await step(
    `${SEED.users + SEED.largeAccountExtra} memberships`,
    `INSERT INTO memberships (account_id, user_id, active, created_at, last_login_at, search, sort_name, email_lower)
     SELECT m.account_id, u.id, (hashtext(u.id::text) % 50) <> 0, u.created_at, u.last_login_at,
            identity.person_search(u.first_name, u.last_name, u.email, u.phone), identity.person_sort_name(u.first_name, u.last_name), u.email_lower
       FROM (SELECT bench_uuid('account' || ((i - 1) % ${SEED.accounts})) AS account_id, bench_uuid('user' || i) AS user_id FROM generate_series(1, ${SEED.users}) AS i
             UNION ALL
             (SELECT bench_uuid('account0'), bench_uuid('user' || i) FROM generate_series(1, ${SEED.users}) AS i
               WHERE (i - 1) % ${SEED.accounts} <> 0 ORDER BY i LIMIT ${SEED.largeAccountExtra})) AS m
       JOIN users u ON u.id = m.user_id`,
  );
  await step('enabling the fill trigger', 'ALTER TABLE memberships ENABLE TRIGGER memberships_fill_person');
  // As autovacuum leaves a table after a bulk insert: statistics, and the visibility map that index-only scans read.
  await step('vacuum and analyze', 'VACUUM (ANALYZE) users, memberships, accounts');
}

const isMain = process.argv[1]?.endsWith('seed-user-table.js');
if (isMain) {
  const serverUrl = process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const started = Date.now();
  const { url, seededNow } = await seedUserTable(serverUrl, (line) => process.stdout.write(`${line}\n`));
  process.stdout.write(`${seededNow ? 'seeded' : 'already seeded'} ${url} in ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
}

import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { distPath, projectRoot } from './dist.js';

/** The PostgreSQL server tests use (`npm test` makes sure one answers). */
export function testServerUrl(): string {
  return process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
}

/** A database made for one test file, with every service's migrations applied. */
export class TestDatabase {
  readonly name = `portico_test_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  readonly url: string;

  /** `ctype`: the database's LC_CTYPE and LC_COLLATE (e.g. `C`, as some operators make them); the server's default otherwise. */
  constructor(
    private readonly serverUrl = testServerUrl(),
    private readonly ctype?: string,
  ) {
    const url = new URL(serverUrl);
    url.pathname = `/${this.name}`;
    this.url = url.toString();
  }

  /**
   * Creates the database with every schema migrated: a copy of the build's migrated template (see
   * {@link migratedTemplate}), or, with a `ctype` of its own, migrated by the built migration tool.
   */
  async create(): Promise<void> {
    if (this.ctype) {
      await this.admin(`CREATE DATABASE ${this.name} TEMPLATE template0 LC_CTYPE '${this.ctype}' LC_COLLATE '${this.ctype}'`);
      await migrateDatabase(this.url);
      return;
    }
    for (let attempt = 1; ; attempt += 1) {
      const template = await migratedTemplate(this.serverUrl);
      try {
        return await this.admin(`CREATE DATABASE ${this.name} TEMPLATE ${template}`);
      } catch (error) {
        // Dropped meanwhile (unused for an hour, by another build's run): made again.
        if ((error as { code?: string }).code !== INVALID_CATALOG_NAME || attempt === 3) throw error;
      }
    }
  }

  /** Runs one query and returns its rows. */
  async query<T = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<T[]> {
    const client = new pg.Client({ connectionString: this.url });
    await client.connect();
    try {
      return (await client.query(sql, params)).rows as T[];
    } finally {
      await client.end();
    }
  }

  /** Drops the database (closing any connection left). */
  async drop(): Promise<void> {
    await this.admin(`DROP DATABASE IF EXISTS ${this.name} WITH (FORCE)`);
  }

  private async admin(sql: string): Promise<void> {
    const client = new pg.Client({ connectionString: this.serverUrl });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  }
}

const INVALID_CATALOG_NAME = '3D000';
const DUPLICATE_DATABASE = '42P04';
const TEMPLATE_PREFIX = 'portico_template_';
/** Held while a template is looked for or made, so that parallel test files make it once. */
const TEMPLATE_LOCK = 'SELECT pg_advisory_lock(hashtext($1))';

/** Migrates the database at `url` with the built migration tool, as a deployment's Job does. */
export async function migrateDatabase(url: string): Promise<void> {
  await promisify(execFile)(process.execPath, [distPath('tools/migrate.js')], { env: { ...process.env, DATABASE_URL: url } });
}

/** A template not used for this long is another build's, done with: the next template made drops it. */
const STALE_AFTER_MS = 60 * 60 * 1000;
/** How long a mark of use lasts before the next use marks it again. */
const MARK_AGAIN_AFTER_MS = 10 * 60 * 1000;
let templateBuilds = 0;
/** The hash of dist/ this test file read (jest gives each file modules of its own; a test run does not build). */
let hashOfBuild: string | undefined;

/**
 * The name of a database that the built migration tool migrated, which test databases are copied
 * from (`CREATE DATABASE ... TEMPLATE`, a fraction of a second instead of a Node.js process running
 * every migration, for each of some fifty test files). It is named after a hash of everything
 * built in `dist/` (`name` is for this file's own tests), so a change to any migration, or to
 * anything else, makes a new one; it is made under a PostgreSQL advisory lock by the first test
 * file that needs it (renamed only once migrated, so that a name found is always complete), takes
 * no connections (a connection would stop the copies), and says when it was last used (its
 * comment): making one drops the templates of other builds unused for an hour, so that two
 * checkouts testing different builds on one server keep theirs.
 */
export async function migratedTemplate(serverUrl: string, name = `${TEMPLATE_PREFIX}${buildHash().slice(0, 20)}`): Promise<string> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await client.query(TEMPLATE_LOCK, [TEMPLATE_PREFIX]);
    const { rows } = await client.query<{ used: string | null }>(`SELECT shobj_description(oid, 'pg_database') AS used FROM pg_database WHERE datname = $1`, [
      name,
    ]);
    if (rows.length === 0) await makeTemplate(client, serverUrl, name);
    // Marked again only now and then: COMMENT waits for the copies being made, and holds the lock meanwhile.
    if (rows.length === 0 || !(Number(rows[0].used) > Date.now() - MARK_AGAIN_AFTER_MS)) await markUsed(client, name);
    return name;
  } finally {
    await client.end();
  }
}

/** How many times this test file ran the migration tool to make a template (for the tests of {@link migratedTemplate}). */
export function templateBuildsHere(): number {
  return templateBuilds;
}

async function makeTemplate(client: pg.Client, serverUrl: string, name: string): Promise<void> {
  const building = `${TEMPLATE_PREFIX}building_${randomBytes(4).toString('hex')}`;
  await client.query(`CREATE DATABASE ${building}${await unicodeLocaleIfServerHasNone(client)}`);
  await markUsed(client, building);
  const url = new URL(serverUrl);
  url.pathname = `/${building}`;
  try {
    templateBuilds += 1;
    await migrateDatabase(url.toString());
  } catch (error) {
    await client.query(`DROP DATABASE IF EXISTS ${building} WITH (FORCE)`).catch(() => undefined);
    throw error;
  }
  await client.query(`ALTER DATABASE ${building} WITH ALLOW_CONNECTIONS false`);
  await client.query(`ALTER DATABASE ${building} RENAME TO ${name}`).catch(async (error: unknown) => {
    // Made meanwhile by a run that took its lock in another database of the server (advisory locks are per database): as good.
    await client.query(`DROP DATABASE IF EXISTS ${building}`).catch(() => undefined);
    if ((error as { code?: string }).code !== DUPLICATE_DATABASE) throw error;
  });
  await dropStaleTemplates(client, name);
  await dropAbandonedTestDatabases(client);
}

/** Server defaults under which lower() folds ASCII only (a cluster made with an empty environment). */
const ASCII_ONLY_CTYPES = ['C', 'POSIX'];

/**
 * The clause that gives the template encoding UTF8 and LC_CTYPE and LC_COLLATE `C.UTF-8` when the server's default is
 * `C` or `POSIX` (tests of that case ask for it with a `ctype` of their own); nothing otherwise, so the
 * template has the server's default locale as before.
 */
async function unicodeLocaleIfServerHasNone(client: pg.Client): Promise<string> {
  const { rows } = await client.query<{ ctype: string }>(`SELECT datctype AS ctype FROM pg_database WHERE datname = 'template1'`);
  return ASCII_ONLY_CTYPES.includes(rows[0]?.ctype ?? '') ? ` TEMPLATE template0 ENCODING 'UTF8' LC_CTYPE 'C.UTF-8' LC_COLLATE 'C.UTF-8'` : '';
}

/** Records in its comment when a template (or one being made) was last used. */
async function markUsed(client: pg.Client, name: string): Promise<void> {
  await client.query(`COMMENT ON DATABASE ${name} IS '${Date.now()}'`);
}

async function dropStaleTemplates(client: pg.Client, current: string): Promise<void> {
  const { rows } = await client.query<{ datname: string; used: string | null }>(
    `SELECT datname, shobj_description(oid, 'pg_database') AS used FROM pg_database WHERE datname LIKE $1 AND datname <> $2`,
    [`${TEMPLATE_PREFIX.replaceAll('_', '\\_')}%`, current],
  );
  // A copy in progress finishes first (DROP waits for it); one that cannot be dropped now (connected to) is left for later.
  for (const { datname, used } of rows)
    if (!(Number(used) > Date.now() - STALE_AFTER_MS)) await client.query(`DROP DATABASE IF EXISTS ${datname}`).catch(() => undefined);
}

/** The name {@link TestDatabase} gives: the time it was made (milliseconds, base 36), then 3 random bytes. */
const TEST_DATABASE_NAME = /^portico_test_([0-9a-z]{8,9})_[0-9a-f]{6}$/;

/** A test database made this long ago is left over (its run was interrupted: Ctrl-C, a killed worker): no test file runs for hours. */
const ABANDONED_AFTER_MS = 6 * 60 * 60 * 1000;

/**
 * Drops the test databases (`portico_test_<base-36 time>_...`, see {@link TestDatabase}) made more than
 * {@link ABANDONED_AFTER_MS} ago, when a new build makes its template: an interrupted run leaves its
 * own behind, whole copies of the schema, which nothing else removes. One still connected to is left.
 */
async function dropAbandonedTestDatabases(client: pg.Client): Promise<void> {
  const { rows } = await client.query<{ datname: string }>(`SELECT datname FROM pg_database WHERE datname LIKE 'portico\_test\_%'`);
  for (const { datname } of rows) {
    // Only names of the shape TestDatabase makes (a database of that prefix made by hand is not ours to drop).
    const made = TEST_DATABASE_NAME.exec(datname);
    if (made && parseInt(made[1], 36) < Date.now() - ABANDONED_AFTER_MS) await client.query(`DROP DATABASE IF EXISTS ${datname}`).catch(() => undefined);
  }
}

/** A hash of every file built in `dist/` (paths from the project root, and contents), read once per test file. */
function buildHash(): string {
  hashOfBuild ??= hashOfDist();
  return hashOfBuild;
}

function hashOfDist(): string {
  const hash = createHash('sha256');
  const walk = (dir: string): void => {
    for (const entry of readdirSync(join(projectRoot, dir), { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else
        hash
          .update(path)
          .update('\0')
          .update(readFileSync(join(projectRoot, path)));
    }
  };
  walk('dist');
  return hash.digest('hex');
}

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
        // Dropped meanwhile by a run of another build on the same server (it keeps only its own): made again.
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
const TEMPLATE_PREFIX = 'portico_template_';
/** Held while a template is looked for or made, so that parallel test files make it once. */
const TEMPLATE_LOCK = 'SELECT pg_advisory_lock(hashtext($1))';

/** Migrates the database at `url` with the built migration tool, as a deployment's Job does. */
export async function migrateDatabase(url: string): Promise<void> {
  await promisify(execFile)(process.execPath, [distPath('tools/migrate.js')], { env: { ...process.env, DATABASE_URL: url } });
}

/**
 * The name of a database that the built migration tool migrated, which test databases are copied
 * from (`CREATE DATABASE ... TEMPLATE`, a fraction of a second instead of a Node.js process running
 * every migration, for each of some fifty test files). It is named after a hash of everything
 * built in `dist/`, so a change to any migration, or to anything else, makes a new one; it is made
 * under a PostgreSQL advisory lock by the first test file that needs it (renamed only once migrated,
 * so that a name found is always complete), takes no connections (a connection would stop the
 * copies), and replaces the templates of earlier builds.
 */
export async function migratedTemplate(serverUrl: string): Promise<string> {
  const name = `${TEMPLATE_PREFIX}${buildHash().slice(0, 20)}`;
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await client.query(TEMPLATE_LOCK, [TEMPLATE_PREFIX]);
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (rowCount === 0) await makeTemplate(client, serverUrl, name);
    return name;
  } finally {
    await client.end();
  }
}

async function makeTemplate(client: pg.Client, serverUrl: string, name: string): Promise<void> {
  const building = `${TEMPLATE_PREFIX}building_${randomBytes(4).toString('hex')}`;
  await client.query(`CREATE DATABASE ${building}`);
  const url = new URL(serverUrl);
  url.pathname = `/${building}`;
  try {
    await migrateDatabase(url.toString());
  } catch (error) {
    await client.query(`DROP DATABASE IF EXISTS ${building} WITH (FORCE)`);
    throw error;
  }
  await client.query(`ALTER DATABASE ${building} RENAME TO ${name}`);
  await client.query(`ALTER DATABASE ${name} WITH ALLOW_CONNECTIONS false`);
  const { rows } = await client.query<{ datname: string }>(`SELECT datname FROM pg_database WHERE datname LIKE '${TEMPLATE_PREFIX}%' AND datname <> $1`, [
    name,
  ]);
  // A copy in progress finishes first (DROP waits for it); one that cannot be dropped now is left for the next build.
  for (const { datname } of rows) await client.query(`DROP DATABASE IF EXISTS ${datname}`).catch(() => undefined);
}

/** A hash of every file built in `dist/` (paths from the project root, and contents). */
function buildHash(): string {
  const hash = createHash('sha256');
  const walk = (dir: string): void => {
    for (const entry of readdirSync(join(projectRoot, dir), { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
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

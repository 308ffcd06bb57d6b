import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { distPath } from './dist.js';

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

  /** Creates the database and migrates every schema with the built migration tool (as a deployment does). */
  async create(): Promise<void> {
    const locale = this.ctype ? ` TEMPLATE template0 LC_CTYPE '${this.ctype}' LC_COLLATE '${this.ctype}'` : '';
    await this.admin(`CREATE DATABASE ${this.name}${locale}`);
    await promisify(execFile)(process.execPath, [distPath('tools/migrate.js')], { env: { ...process.env, DATABASE_URL: this.url } });
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

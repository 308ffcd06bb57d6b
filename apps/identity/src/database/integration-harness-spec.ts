/** Shared set-up of identity's integration tests: a fresh database (migrated), a DataSource on it, rows to start from. */
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { loadConfig } from '#libs/platform/index.js';
import { dataSourceOptions } from '#libs/platform/storage.js';
import { TestDatabase } from '#libs/testing/database.js';
import { identityEnv, type IdentityConfig } from '../identity.config.js';
import { identityDatabase } from '../identity.database.js';

/** A migrated database and a DataSource on its identity schema. */
export class IdentityTestDatabase {
  readonly database: TestDatabase;

  /** `ctype`: the database's LC_CTYPE/LC_COLLATE (the server's default otherwise). */
  constructor(ctype?: string) {
    this.database = new TestDatabase(undefined, ctype);
  }

  dataSource: DataSource;
  config: IdentityConfig;

  async start(env: Record<string, string> = {}): Promise<void> {
    await this.database.create();
    this.config = loadConfig(identityEnv, { DATABASE_URL: this.database.url, DATABASE_POOL_SIZE: '8', ...env });
    this.dataSource = new DataSource(dataSourceOptions(identityDatabase(this.config)));
    await this.dataSource.initialize();
  }

  async stop(): Promise<void> {
    await this.dataSource?.destroy();
    await this.database.drop();
  }

  /** An account with an active owner; returns their ids. */
  async account(slug = `a${randomUUID().slice(0, 8)}`): Promise<{ accountId: string; userId: string }> {
    const accountId = randomUUID();
    const userId = randomUUID();
    await this.dataSource.query(
      `INSERT INTO users (id, email, first_name, last_name, phone, password_hash, status) VALUES ($1, $2, 'Ada', 'Lovelace', '+447700900123', 'x', 'active')`,
      [userId, `${slug}@example.test`],
    );
    await this.dataSource.query(`INSERT INTO accounts (id, name, slug, owner_user_id) VALUES ($1, $2, $3, $4)`, [accountId, `Account ${slug}`, slug, userId]);
    await this.dataSource.query(`INSERT INTO memberships (account_id, user_id, active) VALUES ($1, $2, true)`, [accountId, userId]);
    return { accountId, userId };
  }

  /** A person (Grace Hopper) with that stored password hash, an active member of `accountId`; their id and e-mail. */
  async member(accountId: string, passwordHash = 'x'): Promise<{ id: string; email: string }> {
    const id = randomUUID();
    const email = `m${id.slice(0, 8)}@member.test`;
    await this.dataSource.query(
      `INSERT INTO users (id, email, first_name, last_name, phone, password_hash, status) VALUES ($1, $2, 'Grace', 'Hopper', '+447700900128', $3, 'active')`,
      [id, email, passwordHash],
    );
    await this.dataSource.query('INSERT INTO memberships (account_id, user_id, active) VALUES ($1, $2, true)', [accountId, id]);
    return { id, email };
  }

  /** The columns of an identity table (none when it does not exist). */
  async columnsOf(table: string): Promise<string[]> {
    const rows = await this.dataSource.query<Array<{ name: string }>>(
      `SELECT column_name AS name FROM information_schema.columns WHERE table_schema = 'identity' AND table_name = $1`,
      [table],
    );
    return rows.map((row) => row.name);
  }

  /** Whether the identity schema has an index of that name. */
  async hasIndex(name: string): Promise<boolean> {
    const rows = await this.dataSource.query<unknown[]>(`SELECT 1 FROM pg_indexes WHERE schemaname = 'identity' AND indexname = $1`, [name]);
    return rows.length > 0;
  }

  /** An active subuser of the account. */
  async subuser(accountId: string, login = `s${randomUUID().slice(0, 8)}`): Promise<string> {
    const id = randomUUID();
    await this.dataSource.query(`INSERT INTO subusers (id, account_id, login, password_hash, status, active) VALUES ($1, $2, $3, 'x', 'active', true)`, [
      id,
      accountId,
      login,
    ]);
    return id;
  }
}

import { DataSource } from 'typeorm';
import { dataSourceOptions } from '#libs/platform/storage.js';
import { TestDatabase } from '#libs/testing/database.js';
import { notificationsDatabase } from './notifications.database.js';

/** Shared set-up of notifications' integration tests: a fresh database (migrated) and a DataSource on its notifications schema. */
export class NotificationsTestDatabase {
  readonly database = new TestDatabase();
  dataSource: DataSource;

  async start(poolSize = 2): Promise<void> {
    await this.database.create();
    this.dataSource = new DataSource(dataSourceOptions(notificationsDatabase({ DATABASE_URL: this.database.url, DATABASE_POOL_SIZE: poolSize })));
    await this.dataSource.initialize();
  }

  /** The notifications index `name`, if any: whether it is valid, and its definition. */
  async index(name: string): Promise<{ valid: boolean; definition: string } | undefined> {
    const [row] = await this.dataSource.query<Array<{ valid: boolean; definition: string }>>(
      `SELECT i.indisvalid AS valid, pg_get_indexdef(i.indexrelid) AS definition FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
        WHERE c.relname = $1 AND c.relnamespace = 'notifications'::regnamespace`,
      [name],
    );
    return row;
  }

  async stop(): Promise<void> {
    await this.dataSource?.destroy();
    await this.database.drop();
  }
}

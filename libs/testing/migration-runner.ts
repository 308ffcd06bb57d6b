import type { DataSource, MigrationInterface } from 'typeorm';

/** Runs `step` of `migration` on a query runner of `dataSource` outside any transaction, as the migration tool runs a migration with `transaction = false`. */
export async function migrateOutsideTransaction(dataSource: DataSource, migration: MigrationInterface, step: 'up' | 'down'): Promise<void> {
  const runner = dataSource.createQueryRunner();
  try {
    await migration[step](runner);
  } finally {
    await runner.release();
  }
}

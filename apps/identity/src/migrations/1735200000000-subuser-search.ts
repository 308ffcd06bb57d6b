import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A trigram index of what a search of the subusers looks in (login, e-mail and description,
 * folded): a term few subusers match is found from it, not by folding every subuser of the account
 * (100-200 ms at 10,000 subusers with long descriptions). The expression is the one the subusers'
 * search compares (`SUBUSER_SEARCH_TEXT`), so that the planner can use the index for it. Built
 * CONCURRENTLY (outside a transaction), under a new name then swapped in, as the user table's
 * indexes were: subusers are created and signed in meanwhile, and a run that stopped half-way runs
 * again.
 */
export class SubuserSearch1735200000000 implements MigrationInterface {
  name = 'SubuserSearch1735200000000';
  transaction = false;

  async up(runner: QueryRunner): Promise<void> {
    await runner.query('DROP INDEX CONCURRENTLY IF EXISTS subusers_search_next');
    await runner.query(
      `CREATE INDEX CONCURRENTLY subusers_search_next ON subusers
         USING gin (account_id, (identity.fold(login || ' ' || COALESCE(email, '') || ' ' || description)) public.gin_trgm_ops)`,
    );
    await runner.query('DROP INDEX CONCURRENTLY IF EXISTS subusers_search');
    await runner.query('ALTER INDEX subusers_search_next RENAME TO subusers_search');
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP INDEX CONCURRENTLY IF EXISTS subusers_search');
  }
}

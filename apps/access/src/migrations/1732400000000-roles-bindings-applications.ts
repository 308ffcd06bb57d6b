import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Custom roles, applications and role bindings. Every row carries its account id. */
export class RolesBindingsApplications1732400000000 implements MigrationInterface {
  name = 'RolesBindingsApplications1732400000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE roles (
        id uuid PRIMARY KEY,
        account_id uuid NOT NULL,
        name text NOT NULL,
        description text,
        grants jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE UNIQUE INDEX roles_account_name ON roles (account_id, lower(name));
      CREATE TABLE applications (
        id uuid PRIMARY KEY,
        account_id uuid NOT NULL,
        name text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE UNIQUE INDEX applications_account_name ON applications (account_id, lower(name));
      CREATE TABLE bindings (
        id uuid PRIMARY KEY,
        account_id uuid NOT NULL,
        principal_type text NOT NULL CHECK (principal_type IN ('user', 'subuser')),
        principal_id uuid NOT NULL,
        role_id text NOT NULL,
        application_ids uuid[],
        created_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX bindings_account_principal ON bindings (account_id, principal_id);
      CREATE INDEX bindings_account_role ON bindings (account_id, role_id);
    `);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`DROP TABLE bindings, applications, roles`);
  }
}

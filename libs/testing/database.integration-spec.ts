import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { migrateDatabase, migratedTemplate, templateBuildsHere, TestDatabase, testServerUrl } from './database.js';

/** What the schemas of a database hold: columns, indexes, constraints, functions, extensions, triggers, sequences, views, applied migrations. */
async function schemaOf(database: TestDatabase): Promise<Record<string, unknown[]>> {
  const schemas = `('identity', 'access', 'notifications')`;
  const [columns, indexes, constraints, functions, extensions, triggers, sequences, views] = await Promise.all([
    database.query(
      `SELECT table_schema, table_name, column_name, data_type, column_default, is_nullable FROM information_schema.columns
        WHERE table_schema IN ${schemas} ORDER BY 1, 2, 3`,
    ),
    database.query(`SELECT schemaname, indexname, indexdef FROM pg_indexes WHERE schemaname IN ${schemas} ORDER BY 1, 2`),
    database.query(
      `SELECT n.nspname, c.conname, pg_get_constraintdef(c.oid) AS definition FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
        WHERE n.nspname IN ${schemas} ORDER BY 1, 2`,
    ),
    database.query(
      `SELECT n.nspname, p.proname, p.prosrc FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname IN ${schemas} ORDER BY 1, 2`,
    ),
    database.query(`SELECT extname FROM pg_extension ORDER BY 1`),
    database.query(
      `SELECT trigger_schema, event_object_table, trigger_name, event_manipulation, action_statement FROM information_schema.triggers
        WHERE trigger_schema IN ${schemas} ORDER BY 1, 2, 3, 4`,
    ),
    database.query(`SELECT sequence_schema, sequence_name FROM information_schema.sequences WHERE sequence_schema IN ${schemas} ORDER BY 1, 2`),
    database.query(`SELECT table_schema, table_name, view_definition FROM information_schema.views WHERE table_schema IN ${schemas} ORDER BY 1, 2`),
  ]);
  const migrations = await Promise.all(
    ['identity', 'access', 'notifications'].map((schema) => database.query(`SELECT name FROM ${schema}.migrations ORDER BY id`)),
  );
  return { columns, indexes, constraints, functions, extensions, triggers, sequences, views, migrations };
}

async function admin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: testServerUrl() });
  await client.connect();
  await client.query(sql).finally(() => client.end());
}

describe('a test database', () => {
  const copied = new TestDatabase();
  const migrated = new TestDatabase();

  beforeAll(async () => {
    await copied.create();
    await admin(`CREATE DATABASE ${migrated.name}`);
    await migrateDatabase(migrated.url);
  });

  afterAll(async () => {
    await Promise.all([copied.drop(), migrated.drop()]);
  });

  it('is a copy of the build’s template that holds what the migration tool makes of an empty database', async () => {
    const expected = await schemaOf(migrated);
    expect(expected.columns.length).toBeGreaterThan(50);
    expect((expected.migrations as unknown[][]).every((names) => names.length > 0)).toBe(true);
    expect(await schemaOf(copied)).toEqual(expected);
  });

  it('is made by many test files at once from one template, which nobody can connect to', async () => {
    const many = Array.from({ length: 4 }, () => new TestDatabase());
    try {
      await Promise.all(many.map((database) => database.create()));
      for (const database of many) expect(await schemaOf(database)).toEqual(await schemaOf(copied));
      const template = await migratedTemplate(testServerUrl());
      const url = new URL(testServerUrl());
      url.pathname = `/${template}`;
      await expect(new pg.Client({ connectionString: url.toString() }).connect()).rejects.toThrow(/not currently accepting connections/);
    } finally {
      await Promise.all(many.map((database) => database.drop()));
    }
  });

  it('made by a run interrupted hours ago is dropped when a new build makes its template; a recent one is kept, and one made by hand', async () => {
    const madeAt = (ms: number) => `portico_test_${(Date.now() - ms).toString(36)}_${randomBytes(3).toString('hex')}`;
    const [abandoned, recent] = [madeAt(7 * 60 * 60 * 1000), madeAt(60 * 1000)];
    // Of the same prefix, but not a name the tests give: someone's own.
    const byHand = `portico_test_dev_${randomBytes(3).toString('hex')}`;
    const name = `portico_template_test_${randomBytes(4).toString('hex')}`;
    await admin(`CREATE DATABASE ${abandoned}`);
    await admin(`CREATE DATABASE ${recent}`);
    await admin(`CREATE DATABASE ${byHand}`);
    try {
      await migratedTemplate(testServerUrl(), name);
      const client = new pg.Client({ connectionString: testServerUrl() });
      await client.connect();
      const { rows } = await client
        .query<{ datname: string }>('SELECT datname FROM pg_database WHERE datname = ANY($1)', [[abandoned, recent]])
        .finally(() => client.end());
      expect(rows.map((row) => row.datname)).toEqual([recent]);
    } finally {
      for (const database of [abandoned, recent, byHand, name]) await admin(`DROP DATABASE IF EXISTS ${database}`);
    }
  });

  it('has its template made once when many ask for it at once', async () => {
    const name = `portico_template_test_${randomBytes(4).toString('hex')}`;
    const before = templateBuildsHere();
    try {
      expect(await Promise.all([1, 2, 3].map(() => migratedTemplate(testServerUrl(), name)))).toEqual([name, name, name]);
      expect(templateBuildsHere() - before).toBe(1);
    } finally {
      await admin(`DROP DATABASE IF EXISTS ${name}`);
    }
  });
});

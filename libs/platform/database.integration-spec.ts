import { DataSource, QueryFailedError } from 'typeorm';
import { TestDatabase } from '#libs/testing/database.js';
import { conflictOnDuplicate, dataSourceOptions, preparedQuery, PreparedStatements } from './database.js';

const database = new TestDatabase();
let dataSource: DataSource;

beforeAll(async () => {
  await database.create();
  // One connection: what one statement prepared, the next statement sees.
  dataSource = new DataSource(
    dataSourceOptions({ url: database.url, schema: 'public', entities: [], migrations: [], poolSize: 1, applicationName: 'portico-test' }),
  );
  await dataSource.initialize();
  await dataSource.query('CREATE TABLE prepared_things (name text PRIMARY KEY, size int NOT NULL)');
});
afterAll(async () => {
  await dataSource?.destroy();
  await database.drop();
});

/** The connection's server process and how often it has run `text` as a prepared statement (0: not prepared). */
async function connectionState(text: string): Promise<{ backend: number; runs: number }> {
  const [state] = await dataSource.query<Array<{ backend: number; runs: number }>>(
    `SELECT pg_backend_pid() AS backend,
            coalesce((SELECT (generic_plans + custom_plans)::int FROM pg_prepared_statements WHERE statement = $1), 0) AS runs`,
    [text],
  );
  return state;
}

describe('preparedQuery', () => {
  const insert = 'INSERT INTO prepared_things (name, size) VALUES ($1, $2) RETURNING name, size';

  it('answers with the rows, parsing the statement once per connection', async () => {
    expect(await preparedQuery(dataSource, insert, ['a', 1])).toEqual([{ name: 'a', size: 1 }]);
    expect(await preparedQuery(dataSource, insert, ['b', 2])).toEqual([{ name: 'b', size: 2 }]);
    expect((await connectionState(insert)).runs).toBe(2);
  });

  it("gives PostgreSQL's errors back as QueryFailedError (a duplicate still becomes a 409), on the same connection, statement kept", async () => {
    await preparedQuery(dataSource, insert, ['dup', 1]);
    const before = await connectionState(insert);
    const failed = await preparedQuery(dataSource, insert, ['dup', 2]).catch((error: unknown) => error);
    expect(failed).toBeInstanceOf(QueryFailedError);
    expect(() => conflictOnDuplicate('That name is taken', 'name')(failed)).toThrow('That name is taken');
    // A statement that does not parse, twice: its name is not left half-taken.
    for (let i = 0; i < 2; i += 1) await expect(preparedQuery(dataSource, 'SELEC 1', [])).rejects.toBeInstanceOf(QueryFailedError);
    const after = await connectionState(insert);
    expect(after.backend).toBe(before.backend);
    expect(after.runs).toBe(before.runs + 1);
  });

  it('runs a statement whose result type changed under it once more on a fresh connection, and goes on', async () => {
    await dataSource.query('CREATE TABLE widened (id int PRIMARY KEY, n int NOT NULL)');
    await dataSource.query('INSERT INTO widened VALUES (1, 7)');
    const read = 'SELECT n FROM widened WHERE id = $1';
    expect(await preparedQuery(dataSource, read, [1])).toEqual([{ n: 7 }]);
    const before = await connectionState(read);
    await dataSource.query('ALTER TABLE widened ALTER COLUMN n TYPE bigint');
    expect(await preparedQuery(dataSource, read, [1])).toEqual([{ n: '7' }]);
    expect(await preparedQuery(dataSource, read, [1])).toEqual([{ n: '7' }]);
    const after = await connectionState(read);
    expect(after.backend).not.toBe(before.backend);
    expect(after.runs).toBe(1);
  });

  it('runs texts past its limit unnamed', async () => {
    const statements = new PreparedStatements(1);
    const first = 'SELECT 1 AS one';
    const second = 'SELECT 2 AS two';
    for (let i = 0; i < 2; i += 1) {
      expect(await preparedQuery(dataSource, first, [], statements)).toEqual([{ one: 1 }]);
      expect(await preparedQuery(dataSource, second, [], statements)).toEqual([{ two: 2 }]);
    }
    expect((await connectionState(first)).runs).toBe(2);
    expect((await connectionState(second)).runs).toBe(0);
  });
});

describe('a service connection', () => {
  it('runs with a statement timeout of 30 s and an idle-in-transaction timeout of 1 min (PostgreSQL ends a session frozen mid-transaction, freeing its locks)', async () => {
    const [settings] = await dataSource.query<Array<{ statement: string; idle: string }>>(
      `SELECT current_setting('statement_timeout') AS statement, current_setting('idle_in_transaction_session_timeout') AS idle`,
    );
    expect(settings).toEqual({ statement: '30s', idle: '1min' });
  });

  it('never JIT-compiles a query (compiling a page the planner prices high took 100 ms more than running it)', async () => {
    const [{ jit }] = await dataSource.query<Array<{ jit: string }>>(`SELECT current_setting('jit') AS jit`);
    expect(jit).toBe('off');
  });

  it('of a migration has neither limit (building an index takes as long as it takes)', async () => {
    const migrations = new DataSource(
      dataSourceOptions({ url: database.url, schema: 'public', entities: [], migrations: [], poolSize: 1, applicationName: 'portico-test' }, 0),
    );
    await migrations.initialize();
    try {
      const [settings] = await migrations.query<Array<{ statement: string; idle: string }>>(
        `SELECT current_setting('statement_timeout') AS statement, current_setting('idle_in_transaction_session_timeout') AS idle`,
      );
      expect(settings).toEqual({ statement: '0', idle: '0' });
    } finally {
      await migrations.destroy();
    }
  });
});

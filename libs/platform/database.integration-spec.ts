import { DataSource, QueryFailedError } from 'typeorm';
import { TestDatabase } from '#libs/testing/database.js';
import { conflictOnDuplicate, dataSourceOptions, preparedQuery } from './database.js';

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

describe('preparedQuery', () => {
  const insert = 'INSERT INTO prepared_things (name, size) VALUES ($1, $2) RETURNING name, size';

  it('answers as dataSource.query does, parsing the statement once per connection', async () => {
    expect(await preparedQuery(dataSource, insert, ['a', 1])).toEqual([{ name: 'a', size: 1 }]);
    expect(await preparedQuery(dataSource, insert, ['b', 2])).toEqual([{ name: 'b', size: 2 }]);
    const [prepared] = await dataSource.query<Array<{ executions: number }>>(
      'SELECT (generic_plans + custom_plans)::int AS executions FROM pg_prepared_statements WHERE statement = $1',
      [insert],
    );
    expect(prepared).toEqual({ executions: 2 });
  });

  it("gives PostgreSQL's errors back as QueryFailedError, so a duplicate still becomes a 409, and keeps working after", async () => {
    await preparedQuery(dataSource, insert, ['dup', 1]);
    const failed = await preparedQuery(dataSource, insert, ['dup', 2]).catch((error: unknown) => error);
    expect(failed).toBeInstanceOf(QueryFailedError);
    expect(() => conflictOnDuplicate('That name is taken', 'name')(failed)).toThrow('That name is taken');
    await expect(preparedQuery(dataSource, 'SELEC 1', [])).rejects.toBeInstanceOf(QueryFailedError);
    expect(await preparedQuery(dataSource, 'SELECT count(*)::int AS n FROM prepared_things WHERE name = $1', ['dup'])).toEqual([{ n: 1 }]);
  });
});

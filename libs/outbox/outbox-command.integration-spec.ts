/** The operator's command for events an outbox set aside (tools/outbox.ts), run as built, on a real database. */
import { randomUUID } from 'node:crypto';
import { TestDatabase } from '#libs/testing/database.js';
import { runBuiltTool, type ToolRun } from '#libs/testing/dist.js';

const database = new TestDatabase();

beforeAll(() => database.create());
afterAll(() => database.drop());
beforeEach(() => database.query('DELETE FROM identity.outbox; DELETE FROM access.outbox'));

/** Runs dist/tools/outbox.js with `args` and the database's URL; never rejects. */
function outbox(...args: string[]): Promise<ToolRun> {
  return runBuiltTool('tools/outbox.js', args, { DATABASE_URL: database.url });
}

/** Writes an event in `schema`'s outbox, set aside (with JetStream's refusal) or still waiting; its id. */
async function event(schema: 'identity' | 'access', setAside: boolean): Promise<string> {
  const id = randomUUID();
  await database.query(
    `INSERT INTO ${schema}.outbox (id, type, payload, attempts, last_error, set_aside_at)
     VALUES ($1, 'identity.user.invited', '{}'::jsonb, $2, $3, $4)`,
    [id, setAside ? 1 : 0, setAside ? '10054: message size exceeds maximum allowed' : null, setAside ? new Date() : null],
  );
  return id;
}

/** The outbox rows of `schema`: id -> set aside or not. */
async function rows(schema: 'identity' | 'access'): Promise<Record<string, boolean>> {
  const found = await database.query<{ id: string; set_aside: boolean }>(`SELECT id, set_aside_at IS NOT NULL AS set_aside FROM ${schema}.outbox`);
  return Object.fromEntries(found.map((row) => [row.id, row.set_aside]));
}

describe('the outbox command', () => {
  it("lists the events set aside in the service's outbox only, with JetStream's refusal", async () => {
    const aside = await event('identity', true);
    await event('identity', false);
    await event('access', true);
    const run = await outbox('--service', 'identity');
    expect(run).toMatchObject({ status: 0, stderr: '' });
    expect(run.stdout).toContain(`${aside}  identity.user.invited  written `);
    expect(run.stdout).toContain('refused once: 10054: message size exceeds maximum allowed');
    expect(run.stdout).toContain("1 event set aside in identity's outbox.");
    expect((await outbox('--service', 'identity')).stdout.split('\n').filter((line) => line.includes('identity.user.invited'))).toHaveLength(1);
  });

  it('re-drives the events named, or every one set aside, clearing their refusal; waiting events are left as they are', async () => {
    const [first, second] = [await event('access', true), await event('access', true)];
    const waiting = await event('access', false);
    const named = await outbox('--service', 'access', '--redrive', '--id', first);
    expect(named).toMatchObject({ status: 0, stderr: '' });
    expect(named.stdout).toContain("Re-drove 1 event of access's outbox");
    expect(await rows('access')).toEqual({ [first]: false, [second]: true, [waiting]: false });
    const [row] = await database.query<{ attempts: number; last_error: string | null }>('SELECT attempts, last_error FROM access.outbox WHERE id = $1', [
      first,
    ]);
    expect(row).toEqual({ attempts: 0, last_error: null });
    expect((await outbox('--service', 'access', '--redrive', '--all')).stdout).toContain("Re-drove 1 event of access's outbox");
    expect(await rows('access')).toEqual({ [first]: false, [second]: false, [waiting]: false });
  });

  it('discards the events named for good', async () => {
    const [gone, kept] = [await event('identity', true), await event('identity', true)];
    const run = await outbox('--service', 'identity', '--discard', '--id', gone);
    expect(run).toMatchObject({ status: 0, stdout: "Discarded 1 event of identity's outbox for good.\n" });
    expect(await rows('identity')).toEqual({ [kept]: true });
  });

  it('changes nothing when an --id is not an event set aside (unknown, or still waiting), and says which: exit 3', async () => {
    const aside = await event('identity', true);
    const waiting = await event('identity', false);
    const unknown = randomUUID();
    for (const action of ['--redrive', '--discard']) {
      const run = await outbox('--service', 'identity', action, '--id', aside, '--id', waiting, '--id', unknown);
      expect(run.status).toBe(3);
      expect(run.stderr).toContain(`${waiting}, ${unknown}; nothing was changed.`);
      expect(await rows('identity')).toEqual({ [aside]: true, [waiting]: false });
    }
  });

  it('refuses bad input (2) and a bad environment (78) in one line each, never a stack trace', async () => {
    const bad = await outbox('--service', 'identity', '--discard');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('--discard needs --id <event id> (repeatable)');
    const environment = await runBuiltTool('tools/outbox.js', ['--service', 'identity'], { DATABASE_URL: 'mysql://nope' });
    expect(environment.status).toBe(78);
    expect(environment.stderr).toMatch(/^outbox: Invalid configuration:\n {2}- DATABASE_URL: /);
    expect(environment.stderr).not.toContain('    at ');
  });
});

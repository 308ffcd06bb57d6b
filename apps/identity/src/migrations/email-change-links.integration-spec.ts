import { randomUUID } from 'node:crypto';
import { IdentityTestDatabase } from '../database/integration-harness-spec.js';
import { EmailChangeLinks1733600000000 } from './1733600000000-email-change-links.js';

const db = new IdentityTestDatabase();

beforeAll(() => db.start());
afterAll(() => db.stop());

/** Runs `step` of the migration in a transaction of its own, as the migration tool does (SET LOCAL needs one). */
async function run(step: 'up' | 'down'): Promise<void> {
  const runner = db.dataSource.createQueryRunner();
  try {
    await runner.startTransaction();
    await new EmailChangeLinks1733600000000()[step](runner);
    await runner.commitTransaction();
  } finally {
    await runner.release();
  }
}

/** Stores a link of `purpose` for a new person, holding `newEmail`. */
async function link(purpose: string, newEmail: string | null): Promise<string> {
  const { userId } = await db.account();
  const id = randomUUID();
  await db.dataSource.query(
    `INSERT INTO action_tokens (id, token_hash, purpose, user_id, new_email, expires_at) VALUES ($1, $2, $3, $4, $5, now() + interval '1 hour')`,
    [id, randomUUID(), purpose, userId, newEmail],
  );
  return id;
}

describe('migration 1733600000000: e-mail change links', () => {
  it('lets an e-mail change or undo link hold the address it moves the login to, and only such a link', async () => {
    await link('email-change', 'ada@example.org');
    await link('email-undo', 'ada@example.com');
    await link('reset', null);
    await expect(link('email-change', null)).rejects.toThrow(/action_tokens_new_email_only_for_email_change/);
    await expect(link('email-undo', null)).rejects.toThrow(/action_tokens_new_email_only_for_email_change/);
    await expect(link('reset', 'ada@example.org')).rejects.toThrow(/action_tokens_new_email_only_for_email_change/);
    await expect(link('bogus', null)).rejects.toThrow(/action_tokens_purpose_check/);
  });

  it('goes down, taking the e-mail change and undo links with it and keeping the others, and up again', async () => {
    const kept = await link('activation', null);
    await link('email-change', 'grace@example.org');
    await link('email-undo', 'grace@example.com');

    await run('down');
    const purposes = await db.dataSource.query<Array<{ purpose: string }>>('SELECT DISTINCT purpose FROM action_tokens ORDER BY purpose');
    expect(purposes.map((row) => row.purpose)).toEqual(['activation', 'reset']);
    await expect(db.dataSource.query(`UPDATE action_tokens SET purpose = 'email-change' WHERE id = $1`, [kept])).rejects.toThrow(/purpose_check/);

    await run('up');
    await link('email-change', 'grace@example.org');
  });
});

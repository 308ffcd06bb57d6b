/** The operator's command that turns off a login's second step (tools/second-step-reset.ts), run as built, on a real database. */
import { randomUUID } from 'node:crypto';
import { Events, type Principal } from '#libs/contracts/index.js';
import { runBuiltTool, type ToolRun } from '#libs/testing/dist.js';
import { IdentityTestDatabase } from '../database/integration-harness-spec.js';

const db = new IdentityTestDatabase();

beforeAll(() => db.start());
afterAll(() => db.stop());

/** Runs dist/tools/second-step-reset.js with `args` in identity's environment; never rejects. */
function command(args: string[], env: Record<string, string> = { DATABASE_URL: db.database.url }): Promise<ToolRun> {
  return runBuiltTool('tools/second-step-reset.js', args, env);
}

/** Gives `principal` a confirmed authenticator, two recovery codes, and a session that passed the second step. */
async function turnOn(principal: Principal): Promise<void> {
  const factorId = randomUUID();
  const owner = principal.type === 'user' ? 'user_id' : 'subuser_id';
  await db.dataSource.query(`UPDATE ${principal.type === 'user' ? 'users' : 'subusers'} SET second_step = true WHERE id = $1`, [principal.id]);
  await db.dataSource.query(`INSERT INTO totp_factors (id, ${owner}, secret, confirmed_at) VALUES ($1, $2, $3, now())`, [
    factorId,
    principal.id,
    Buffer.alloc(20, 7),
  ]);
  await db.dataSource.query(`INSERT INTO recovery_codes (factor_id, code_hash) VALUES ($1, 'a'), ($1, 'b')`, [factorId]);
  await db.dataSource.query(
    `INSERT INTO sessions (id, principal_type, principal_id, refresh_hash, created_at, last_used_at, expires_at, second_step_passed)
     VALUES (gen_random_uuid(), $1, $2, gen_random_uuid()::text, now(), now(), now() + interval '1 day', true)`,
    [principal.type, principal.id],
  );
}

/** What is left of `principal`'s second step: its flag, factors, and sessions counted as having passed it. */
async function secondStepOf(principal: Principal): Promise<{ flag: boolean; factors: number; passedSessions: number }> {
  const table = principal.type === 'user' ? 'users' : 'subusers';
  const owner = principal.type === 'user' ? 'user_id' : 'subuser_id';
  const [row] = await db.dataSource.query<Array<{ flag: boolean; factors: number; passed_sessions: number }>>(
    `SELECT (SELECT second_step FROM ${table} WHERE id = $1) AS flag,
            (SELECT count(*)::int FROM totp_factors WHERE ${owner} = $1) AS factors,
            (SELECT count(*)::int FROM sessions WHERE principal_id = $1 AND second_step_passed) AS passed_sessions`,
    [principal.id],
  );
  return { flag: row.flag, factors: row.factors, passedSessions: row.passed_sessions };
}

describe('the second-step-reset command', () => {
  it('turns off a person’s second step by e-mail (any case): audited by the operator with the reason, and the person told', async () => {
    const slug = `r${randomUUID().slice(0, 8)}`;
    const { accountId, userId } = await db.account(slug);
    const person: Principal = { type: 'user', id: userId };
    await turnOn(person);

    const run = await command(['--email', `${slug.toUpperCase()}@Example.test`, '--reason', 'ticket 4711: phone and codes lost']);

    expect(run).toMatchObject({ status: 0, stderr: '' });
    expect(run.stdout).toContain(`Two-step sign-in is off for ${slug.toUpperCase()}@Example.test (user ${userId})`);
    expect(await secondStepOf(person)).toEqual({ flag: false, factors: 0, passedSessions: 0 });
    const audit = await db.dataSource.query<Array<{ account_id: string; actor_id: string | null; ip: string | null; details: unknown }>>(
      `SELECT account_id, actor_id, ip, details FROM audit_events WHERE action = 'mfa.reset' AND target_id = $1`,
      [userId],
    );
    expect(audit).toEqual([{ account_id: accountId, actor_id: null, ip: null, details: { by: 'operator', reason: 'ticket 4711: phone and codes lost' } }]);
    const [notice] = await db.dataSource.query<Array<{ data: Record<string, unknown> }>>(
      `SELECT payload->'data' AS data FROM outbox WHERE type = $1 AND payload->'data'->>'principalId' = $2`,
      [Events.SecondStepChanged, userId],
    );
    expect(notice.data).toMatchObject({ principalType: 'user', principalId: userId, email: `${slug}@example.test`, change: 'reset-by-operator' });

    const again = await command(['--email', `${slug}@example.test`, '--reason', 'ticket 4711']);
    expect(again.status).toBe(4);
    expect(again.stderr).toContain('already off');
  });

  it('ends a block of the second step after too many wrong codes: the factor goes, and its block and count with it', async () => {
    const slug = `r${randomUUID().slice(0, 8)}`;
    const { userId } = await db.account(slug);
    const person: Principal = { type: 'user', id: userId };
    await turnOn(person);
    await db.dataSource.query('UPDATE totp_factors SET wrong_codes = 20, blocked_at = now() WHERE user_id = $1', [userId]);
    const run = await command(['--email', `${slug}@example.test`, '--reason', 'ticket 4712: blocked, mailbox lost too']);
    expect(run).toMatchObject({ status: 0, stderr: '' });
    expect(await secondStepOf(person)).toEqual({ flag: false, factors: 0, passedSessions: 0 });
    const [{ blocked }] = await db.dataSource.query<Array<{ blocked: number }>>(
      'SELECT count(*)::int AS blocked FROM totp_factors WHERE user_id = $1 AND blocked_at IS NOT NULL',
      [userId],
    );
    expect(blocked).toBe(0);
  });

  it('turns off a subuser’s by its account slug and login (any case)', async () => {
    const slug = `r${randomUUID().slice(0, 8)}`;
    const { accountId } = await db.account(slug);
    const subuser: Principal = { type: 'subuser', id: await db.subuser(accountId, 'desk-7') };
    await turnOn(subuser);
    const run = await command(['--account', slug.toUpperCase(), '--login', 'Desk-7', '--reason', 'lost phone']);
    expect(run).toMatchObject({ status: 0, stderr: '' });
    expect(await secondStepOf(subuser)).toEqual({ flag: false, factors: 0, passedSessions: 0 });
  });

  it('changes nothing for a login it cannot find (3), nor on a bad command line (2, every problem named: arguments.spec.ts)', async () => {
    const unknown = await command(['--email', 'nobody@example.test', '--reason', 'x']);
    expect(unknown.status).toBe(3);
    expect(unknown.stderr).toContain('no login nobody@example.test');
    const bad = await command(['--mail', 'a@example.test']);
    expect({ status: bad.status, stdout: bad.stdout }).toEqual({ status: 2, stdout: '' });
    expect(bad.stderr).toContain("Unknown option '--mail'");
  });

  it('prints its usage with --help, stops on a bad environment (78) naming it, and says in one line why a database failed it (1)', async () => {
    const help = await command(['--help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('Usage: node dist/tools/second-step-reset.js --email <e-mail> --reason <why>');
    const badEnvironment = await command(['--email', 'a@example.test', '--reason', 'x'], { DATABASE_URL: 'nope' });
    expect(badEnvironment.status).toBe(78);
    expect(badEnvironment.stderr).toContain('DATABASE_URL: "nope" is not a URL');
    const missingDatabase = new URL(db.database.url);
    missingDatabase.pathname = '/portico_no_such_database';
    const failed = await command(['--email', 'a@example.test', '--reason', 'x'], { DATABASE_URL: missingDatabase.toString() });
    expect(failed.status).toBe(1);
    expect(failed.stderr.trim().split('\n')).toEqual(['second-step-reset failed: database "portico_no_such_database" does not exist']);
  });
});

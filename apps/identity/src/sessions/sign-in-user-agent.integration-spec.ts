import { randomUUID } from 'node:crypto';
import type { SecondStepView, TokenPairView } from '#libs/contracts/index.js';
import { freshIdentityServices } from '../database/services-harness-spec.js';
import { base32Decode, totpCode } from '../mfa/totp.js';

const PASSWORD = 'correct horse battery staple';
const FIREFOX = 'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0';
const PHONE = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Mobile/15E148 Safari/604.1';
const { db, services } = freshIdentityServices();

let address = 0;
/** A client address of its own for each call, so that no address counter spills from one test to the next. */
const client = () => ({ ip: `10.46.${Math.floor(++address / 250)}.${address % 250}` });

/** An account whose owner signs in with PASSWORD; its slug, ids and e-mail. */
async function owner() {
  const slug = `u${randomUUID().slice(0, 8)}`;
  const { accountId, userId } = await db.account(slug);
  await db.dataSource.query('UPDATE users SET password_hash = $2 WHERE id = $1', [userId, `fake:${PASSWORD}`]);
  return { slug, accountId, userId, email: `${slug}@example.test` };
}

/** The details of each audit event about `principalId`, sorted by action. */
async function auditDetails(principalId: string): Promise<Array<[string, Record<string, unknown> | null]>> {
  await services.auth.refusalsRecorded();
  const rows = await db.dataSource.query<Array<{ action: string; details: Record<string, unknown> | null }>>(
    'SELECT action, details FROM audit_events WHERE target_id = $1 ORDER BY action',
    [principalId],
  );
  return rows.map((row) => [row.action, row.details]);
}

const userAgentsOfSessions = async (principalId: string) =>
  (await db.dataSource.query<Array<{ user_agent: string | null }>>('SELECT user_agent FROM sessions WHERE principal_id = $1', [principalId])).map(
    (row) => row.user_agent,
  );

describe('the User-Agent of a sign-in', () => {
  it('is kept on a person’s session and in the audit events of a refused and of a successful sign-in', async () => {
    const { userId, email } = await owner();
    await expect(services.auth.login({ client: client(), body: { email, password: 'not the password at all' } }, FIREFOX)).rejects.toMatchObject({
      code: 'INVALID_CREDENTIALS',
    });
    await services.auth.login({ client: client(), body: { email, password: PASSWORD } }, FIREFOX);
    expect(await userAgentsOfSessions(userId)).toEqual([FIREFOX]);
    expect(await auditDetails(userId)).toEqual([
      ['login.failed', { reason: 'wrong-password', userAgent: FIREFOX }],
      ['login.succeeded', { userAgent: FIREFOX }],
    ]);
  });

  it('is kept on a subuser’s session', async () => {
    const { slug, accountId } = await owner();
    const subuserId = await db.subuser(accountId, 'ops');
    await db.dataSource.query('UPDATE subusers SET password_hash = $2 WHERE id = $1', [subuserId, `fake:${PASSWORD}`]);
    await services.auth.subuserLogin({ client: client(), body: { account: slug, login: 'ops', password: PASSWORD } }, FIREFOX);
    expect(await userAgentsOfSessions(subuserId)).toEqual([FIREFOX]);
  });

  it('of each step of a two-step sign-in is in its audit event, and the session keeps the second step’s', async () => {
    const { userId, email } = await owner();
    const actor = services.actor('user', userId);
    const enrolment = await services.mfa.startTotp({ actor, client: client(), body: { currentPassword: PASSWORD } });
    const secret = base32Decode(enrolment.secret)!;
    await services.mfa.confirmTotp({ actor, client: client(), body: { code: totpCode(secret, services.clock.now()) } });
    services.clock.advance(30_000);
    await db.dataSource.query("DELETE FROM audit_events WHERE target_id = $1 AND action NOT LIKE 'login.%'", [userId]);

    const { challenge } = (await services.auth.login({ client: client(), body: { email, password: PASSWORD } }, FIREFOX)) as SecondStepView;
    await expect(services.auth.secondStep({ client: client(), body: { challenge, code: '000000' } }, PHONE)).rejects.toMatchObject({
      code: 'INVALID_CREDENTIALS',
    });
    const pair = (await services.auth.secondStep(
      { client: client(), body: { challenge, code: totpCode(secret, services.clock.now()) } },
      PHONE,
    )) as TokenPairView;

    expect(pair.accessToken).toEqual(expect.any(String));
    expect(await userAgentsOfSessions(userId)).toEqual([PHONE]);
    expect((await auditDetails(userId)).filter(([action]) => action.startsWith('login.'))).toEqual([
      ['login.second-step-failed', { reason: 'wrong-code', step: 'second', userAgent: PHONE }],
      ['login.second-step-required', { userAgent: FIREFOX }],
      ['login.succeeded', { secondFactor: 'totp', userAgent: PHONE }],
    ]);
  });
});

import { randomUUID } from 'node:crypto';
import {
  GATE_STATE_PAGE_SIZE,
  SECOND_STEP_POLICY_CHANGED,
  SESSIONS_REVOKED,
  type Actor,
  type AccessTokenClaims,
  type SecondStepView,
  type TokenPairView,
} from '#libs/contracts/index.js';
import { freshIdentityServices, SideConnection } from '../database/services-harness-spec.js';
import { signInClientOf } from '../sessions/user-agent.js';
import { base32Decode, totpCode } from './totp.js';

const PASSWORD = 'correct horse battery staple';
const STEP_MS = 30_000;
const { db, services } = freshIdentityServices();

let address = 0;
const client = () => ({ ip: `10.46.${Math.floor(++address / 250)}.${address % 250}` });

/** An account whose owner has PASSWORD. */
async function owner(): Promise<{ accountId: string; userId: string; email: string }> {
  const slug = `p${randomUUID().slice(0, 8)}`;
  const { accountId, userId } = await db.account(slug);
  await db.dataSource.query('UPDATE users SET password_hash = $2 WHERE id = $1', [userId, `fake:${PASSWORD}`]);
  return { accountId, userId, email: `${slug}@example.test` };
}

function claimsOf(pair: TokenPairView): AccessTokenClaims {
  return JSON.parse(Buffer.from(pair.accessToken.split('.')[1], 'base64url').toString()) as AccessTokenClaims;
}

/** The actor of an access token, as the gateway makes it. */
function actorOf(pair: TokenPairView): Actor {
  const claims = claimsOf(pair);
  return { type: claims.pty, id: claims.sub, sessionId: claims.sid };
}

async function passwordOnly(email: string): Promise<TokenPairView> {
  const answer = await services.auth.login({ client: client(), body: { email, password: PASSWORD } });
  expect(answer).toHaveProperty('accessToken');
  return answer as TokenPairView;
}

/** Turns two-step sign-in on in the session of `pair`; the authenticator's secret. */
async function turnOnIn(pair: TokenPairView): Promise<Buffer> {
  const actor = actorOf(pair);
  const enrolment = await services.mfa.startTotp({ actor, client: client(), body: { currentPassword: PASSWORD } });
  const secret = base32Decode(enrolment.secret)!;
  await services.mfa.confirmTotp({ actor, client: client(), body: { code: totpCode(secret, services.clock.now()) } });
  services.clock.advance(STEP_MS);
  return secret;
}

async function withTwoSteps(email: string, secret: Buffer): Promise<TokenPairView> {
  const { challenge } = (await services.auth.login({ client: client(), body: { email, password: PASSWORD } })) as SecondStepView;
  const pair = await services.auth.secondStep({ client: client(), body: { challenge, code: totpCode(secret, services.clock.now()) } });
  services.clock.advance(STEP_MS);
  return pair;
}

const refresh = (pair: TokenPairView) => services.sessions.refresh(pair.refreshToken, signInClientOf(client().ip, undefined));

function requireSecondStep(actor: Actor, accountId: string, on: boolean) {
  return services.accounts.update({ actor, accountId, client: client(), body: { requireSecondStep: on } });
}

describe('access tokens say how their session signed in (amr, RFC 8176)', () => {
  it('a password alone: pwd; with the second step: pwd, otp and mfa, through every refresh', async () => {
    const { email } = await owner();
    const first = await passwordOnly(email);
    expect(claimsOf(first).amr).toEqual(['pwd']);
    const secret = await turnOnIn(first);
    const twoSteps = await withTwoSteps(email, secret);
    expect(claimsOf(twoSteps).amr).toEqual(['pwd', 'otp', 'mfa']);
    expect(claimsOf(await refresh(twoSteps)).amr).toEqual(['pwd', 'otp', 'mfa']);
  });

  it('the session that turns two-step sign-in on counts as having passed it from then on', async () => {
    const { email } = await owner();
    const session = await passwordOnly(email);
    await turnOnIn(session);
    expect(claimsOf(await refresh(session)).amr).toEqual(['pwd', 'otp', 'mfa']);
  });

  it('turned off, no session of the login counts as having passed it any more', async () => {
    const { email, userId } = await owner();
    const secret = await turnOnIn(await passwordOnly(email));
    const twoSteps = await withTwoSteps(email, secret);
    await services.mfa.disable({
      actor: actorOf(twoSteps),
      client: client(),
      body: { currentPassword: PASSWORD, code: totpCode(secret, services.clock.now()) },
    });
    expect(claimsOf(await refresh(twoSteps)).amr).toEqual(['pwd']);
    const [{ passed }] = await db.dataSource.query<Array<{ passed: number }>>(
      'SELECT count(*)::int AS passed FROM sessions WHERE principal_id = $1 AND second_step_passed',
      [userId],
    );
    expect(passed).toBe(0);
  });

  it('turned off, its open sessions are told to every gateway and listed in the gate state; one that turns it on again is no longer listed', async () => {
    const { email } = await owner();
    const first = await passwordOnly(email);
    const secret = await turnOnIn(first);
    const twoSteps = await withTwoSteps(email, secret);
    const told = services.broadcasts.length;
    await services.mfa.disable({
      actor: actorOf(twoSteps),
      client: client(),
      body: { currentPassword: PASSWORD, code: totpCode(secret, services.clock.now()) },
    });
    const sessionIds = [actorOf(first).sessionId, actorOf(twoSteps).sessionId];
    expect(services.broadcasts.slice(told)).toEqual([
      {
        subject: SESSIONS_REVOKED,
        payload: { sessions: [], secondStepLost: expect.arrayContaining(sessionIds.map((id) => ({ id, until: expect.any(String) }))) },
      },
    ]);
    const listed = async () => ((await services.sessions.gateState({})).secondStepLost ?? []).map((session) => session.id);
    expect(await listed()).toEqual(expect.arrayContaining(sessionIds));

    await turnOnIn(twoSteps);
    expect(await listed()).toContain(actorOf(first).sessionId);
    expect(await listed()).not.toContain(actorOf(twoSteps).sessionId);
  });

  it("an admin turning a subuser's off clears it on the subuser's sessions", async () => {
    const admin = await owner();
    const adminSecret = await turnOnIn(await passwordOnly(admin.email));
    const adminActor = actorOf(await withTwoSteps(admin.email, adminSecret));
    const slug = (await db.dataSource.query<Array<{ slug: string }>>('SELECT slug FROM accounts WHERE id = $1', [admin.accountId]))[0].slug;
    const subuserId = await db.subuser(admin.accountId, 'ops');
    await db.dataSource.query('UPDATE subusers SET password_hash = $2 WHERE id = $1', [subuserId, `fake:${PASSWORD}`]);
    const signIn = () => services.auth.subuserLogin({ client: client(), body: { account: slug, login: 'ops', password: PASSWORD } });
    const subuserSecret = await turnOnIn((await signIn()) as TokenPairView);
    const { challenge } = (await signIn()) as SecondStepView;
    const subuserSession = await services.auth.secondStep({ client: client(), body: { challenge, code: totpCode(subuserSecret, services.clock.now()) } });
    expect(claimsOf(subuserSession).amr).toContain('mfa');
    await services.subusers.resetSecondStep({ actor: adminActor, accountId: admin.accountId, subuserId, client: client() });
    expect(claimsOf(await refresh(subuserSession)).amr).toEqual(['pwd']);
  });
});

describe('an account that requires two-step sign-in', () => {
  it('cannot be made so from a session that did not pass a second step: 403 SECOND_STEP_REQUIRED, nothing changed', async () => {
    const { accountId, email } = await owner();
    const session = await passwordOnly(email);
    await expect(requireSecondStep(actorOf(session), accountId, true)).rejects.toMatchObject({ code: 'SECOND_STEP_REQUIRED' });
    // Nor with a token that still says mfa after two-step sign-in was turned off: the session's row decides.
    const secret = await turnOnIn(session);
    const twoSteps = await withTwoSteps(email, secret);
    await services.mfa.disable({
      actor: actorOf(twoSteps),
      client: client(),
      body: { currentPassword: PASSWORD, code: totpCode(secret, services.clock.now()) },
    });
    await expect(requireSecondStep(actorOf(twoSteps), accountId, true)).rejects.toMatchObject({ code: 'SECOND_STEP_REQUIRED' });
    const [{ required }] = await db.dataSource.query<Array<{ required: boolean }>>('SELECT second_step_required AS required FROM accounts WHERE id = $1', [
      accountId,
    ]);
    expect(required).toBe(false);
  });

  it("waits for the caller's own second step being turned off at the same moment, and then refuses", async () => {
    const { accountId, email } = await owner();
    const actor = actorOf(await withTwoSteps(email, await turnOnIn(await passwordOnly(email))));
    const side = new SideConnection(db);
    await side.open();
    try {
      // As turning the factor off does, uncommitted: the caller's sessions no longer count as having passed a second step.
      await side.hold('UPDATE sessions SET second_step_passed = false WHERE principal_id = $1', [actor.id]);
      const change = requireSecondStep(actor, accountId, true);
      await side.untilWaiting(1);
      await side.commit();
      await expect(change).rejects.toMatchObject({ code: 'SECOND_STEP_REQUIRED' });
    } finally {
      await side.close();
    }
  });

  it('is made so from a session that passed one: shown, audited with what it replaced, told to every gateway, and in the gate state', async () => {
    const { accountId, email } = await owner();
    const actor = actorOf(await withTwoSteps(email, await turnOnIn(await passwordOnly(email))));
    const told = services.broadcasts.length;
    await expect(requireSecondStep(actor, accountId, true)).resolves.toMatchObject({ id: accountId, requireSecondStep: true });
    expect(services.broadcasts.slice(told)).toEqual([{ subject: SECOND_STEP_POLICY_CHANGED, payload: { accountId, requireSecondStep: true } }]);
    const [event] = await db.dataSource.query<Array<{ details: Record<string, unknown> }>>(
      `SELECT details FROM audit_events WHERE action = 'account.updated' AND account_id = $1`,
      [accountId],
    );
    expect(event.details).toEqual({ changed: ['requireSecondStep'], requireSecondStep: true, previousRequireSecondStep: false });
    expect((await services.sessions.gateState({})).secondStepAccounts).toContain(accountId);
    expect(await services.accounts.get(actor, accountId)).toMatchObject({ requireSecondStep: true });

    // Asked again, nothing changes and nobody is told; turned off, from any session of someone allowed to.
    await requireSecondStep(actor, accountId, true);
    expect(services.broadcasts.slice(told)).toHaveLength(1);
    const passwordOnlyActor = { ...actor, sessionId: randomUUID() };
    await expect(requireSecondStep(passwordOnlyActor, accountId, false)).resolves.toMatchObject({ requireSecondStep: false });
    expect(services.broadcasts.slice(told)[1]).toEqual({ subject: SECOND_STEP_POLICY_CHANGED, payload: { accountId, requireSecondStep: false } });
    expect((await services.sessions.gateState({})).secondStepAccounts).not.toContain(accountId);
  });

  it('is listed to the gateways page after page, also when another list goes on longer', async () => {
    const { userId } = await owner();
    const required = async (count: number) => {
      const rows = await db.dataSource.query<Array<{ id: string }>>(
        `INSERT INTO accounts (id, name, slug, owner_user_id, locale, second_step_required)
         SELECT gen_random_uuid(), 'P', 'policy-' || gen_random_uuid(), $2::uuid, 'en', true FROM generate_series(1, $1) RETURNING id`,
        [count, userId],
      );
      return rows.map((row) => row.id);
    };
    const fullState = async () => {
      const listed: string[] = [];
      const revoked: string[] = [];
      let page = await services.sessions.gateState({});
      let pages = 1;
      for (;;) {
        listed.push(...page.secondStepAccounts);
        revoked.push(...page.revokedSessions.map((session) => session.id));
        if (!page.next) break;
        page = await services.sessions.gateState(page.next);
        pages += 1;
      }
      return { listed, revoked, pages };
    };
    // More accounts than a page.
    const many = await required(GATE_STATE_PAGE_SIZE + 3);
    let state = await fullState();
    expect(state.pages).toBe(2);
    expect(new Set(state.listed).size).toBe(state.listed.length);
    expect(state.listed).toEqual(expect.arrayContaining(many));
    // Fewer accounts than ended sessions: the finished list is not named in next (an identity of the release before refuses
    // a key it does not know), so it comes again with the later pages, and nothing is lost.
    await db.dataSource.query('UPDATE accounts SET second_step_required = false WHERE id = ANY($1::uuid[])', [many.slice(3)]);
    await db.dataSource.query(
      `INSERT INTO sessions (id, principal_type, principal_id, refresh_hash, created_at, last_used_at, expires_at, revoked_at)
       SELECT gen_random_uuid(), 'user', $1::uuid, gen_random_uuid()::text, $2, $2, $2::timestamptz + interval '1 day', $2 FROM generate_series(1, $3)`,
      [userId, services.clock.now(), GATE_STATE_PAGE_SIZE + 5],
    );
    const first = await services.sessions.gateState({});
    expect(first.next).not.toHaveProperty('secondStepAfter');
    state = await fullState();
    expect(state.pages).toBe(2);
    expect(new Set(state.revoked).size).toBeGreaterThan(GATE_STATE_PAGE_SIZE);
    expect(new Set(state.listed)).toEqual(new Set(many.slice(0, 3)));
  });
});

describe('who has two-step sign-in on, in the user table', () => {
  it('says so per person', async () => {
    const { accountId, userId, email } = await owner();
    const request = { actor: actorOf(await passwordOnly(email)), accountId, userId, client: client() };
    await expect(services.users.get(request)).resolves.toMatchObject({ mfaEnabled: false });
    await turnOnIn(await passwordOnly(email));
    await expect(services.users.get(request)).resolves.toMatchObject({ mfaEnabled: true });
    const page = await services.users.list({ actor: request.actor, accountId, client: client(), query: { limit: 10, sort: 'name', order: 'asc' } });
    expect(page.items).toEqual([expect.objectContaining({ id: userId, mfaEnabled: true })]);
  });
});

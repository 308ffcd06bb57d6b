import { randomUUID } from 'node:crypto';
import { SESSIONS_REVOKED, type SecondStepView, type SessionsRevokedEvent, type TokenPairView } from '#libs/contracts/index.js';
import { freshIdentityServices, SideConnection } from '../database/services-harness-spec.js';
import { base32Decode, totpCode } from '../mfa/totp.js';

const PASSWORD = 'correct horse battery staple';
const LIMIT = 3;
const { db, services } = freshIdentityServices(undefined, { MAX_OPEN_SESSIONS: String(LIMIT) });

let address = 0;
/** A client address of its own for each call, so that no address counter reaches its limit. */
const client = () => ({ ip: `10.47.${Math.floor(++address / 250)}.${address % 250}` });

/** An account whose owner signs in with PASSWORD. */
async function owner() {
  const slug = `l${randomUUID().slice(0, 8)}`;
  const { userId } = await db.account(slug);
  await db.dataSource.query('UPDATE users SET password_hash = $2 WHERE id = $1', [userId, `fake:${PASSWORD}`]);
  return { userId, email: `${slug}@example.test` };
}

/** The sessions of a login, oldest first, with how each ended. */
async function sessionsOf(userId: string): Promise<Array<{ id: string; end_reason: string | null }>> {
  return db.dataSource.query('SELECT id, end_reason FROM sessions WHERE principal_id = $1 ORDER BY created_at', [userId]);
}

/** The ids of the sessions broadcast as ended since the last call. */
function heardEnded(): string[] {
  const ended = services.broadcasts
    .filter((broadcast) => broadcast.subject === SESSIONS_REVOKED)
    .flatMap((broadcast) => (broadcast.payload as SessionsRevokedEvent).sessions.map((session) => session.id));
  services.broadcasts.length = 0;
  return ended;
}

describe('the open sessions of a login', () => {
  it('are at most MAX_OPEN_SESSIONS: a sign-in beyond ends the one used least recently, and the gateways hear of it', async () => {
    const { userId, email } = await owner();
    const signIn = async () => (await services.auth.login({ client: client(), body: { email, password: PASSWORD } })) as TokenPairView;
    const first = await signIn();
    services.clock.advance(1000);
    await signIn();
    services.clock.advance(1000);
    await signIn();
    services.clock.advance(1000);
    // The first session is used again: the second is now the one used least recently.
    await services.sessions.refresh(first.refreshToken, { ...client(), userAgent: null });
    heardEnded();

    services.clock.advance(1000);
    await signIn();

    const sessions = await sessionsOf(userId);
    expect(sessions.map((session) => session.end_reason)).toEqual([null, 'session-limit', null, null]);
    expect(heardEnded()).toEqual([sessions[1].id]);
    const listed = await services.sessions.listOpen({ type: 'user', id: userId });
    expect(listed).toHaveLength(LIMIT);
    expect(listed.map((session) => session.id)).not.toContain(sessions[1].id);
    // In the audit trail, by the sign-in that ended it.
    const audited = await db.dataSource.query<Array<{ actor_id: string; details: unknown }>>(
      `SELECT actor_id, details FROM audit_events WHERE target_id = $1 AND action = 'sessions.ended'`,
      [userId],
    );
    expect(audited).toEqual([{ actor_id: userId, details: { reason: 'session-limit', count: 1 } }]);
  });

  it('keep how they ended when a sign-in beyond the limit waited for that ending (an admin ended it, read before by the sign-in)', async () => {
    const { userId, email } = await owner();
    const signIn = () => services.auth.login({ client: client(), body: { email, password: PASSWORD } });
    for (let i = 0; i < LIMIT; i += 1) {
      await signIn();
      services.clock.advance(1000);
    }
    const [leastRecent] = await sessionsOf(userId);
    const side = new SideConnection(db);
    await side.open();
    try {
      // An admin's end of every session holds the person's row; the sign-in waits for it, having read the sessions before.
      await side.hold('SELECT 1 FROM users WHERE id = $1 FOR UPDATE', [userId]);
      await side.run(`UPDATE sessions SET revoked_at = now(), end_reason = 'ended-by-admin' WHERE principal_id = $1`, [userId]);
      const signingIn = signIn();
      // Until it waits for the row: its read of before is then what it decides on.
      await side.untilWaiting(1);
      await side.commit();
      await signingIn;
    } finally {
      await side.close();
    }
    const ended = (await sessionsOf(userId)).find((session) => session.id === leastRecent.id);
    expect(ended?.end_reason).toBe('ended-by-admin');
  });

  it('are at most MAX_OPEN_SESSIONS for a two-step sign-in too, told once its transaction commits', async () => {
    const { userId, email } = await owner();
    const actor = services.actor('user', userId);
    const enrolment = await services.mfa.startTotp({ actor, client: client(), body: { currentPassword: PASSWORD } });
    const secret = base32Decode(enrolment.secret)!;
    await services.mfa.confirmTotp({ actor, client: client(), body: { code: totpCode(secret, services.clock.now()) } });
    const signIn = async () => {
      services.clock.advance(30_000);
      const { challenge } = (await services.auth.login({ client: client(), body: { email, password: PASSWORD } })) as SecondStepView;
      return services.auth.secondStep({ client: client(), body: { challenge, code: totpCode(secret, services.clock.now()) } });
    };
    for (let i = 0; i < LIMIT; i += 1) await signIn();
    heardEnded();

    await signIn();

    const sessions = await sessionsOf(userId);
    const open = sessions.filter((session) => session.end_reason === null);
    expect(open).toHaveLength(LIMIT);
    expect(heardEnded()).toEqual(sessions.filter((session) => session.end_reason === 'session-limit').map((session) => session.id));
  });
});

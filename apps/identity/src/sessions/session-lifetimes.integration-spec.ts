import type { Logger } from 'pino';
import { GATE_STATE_PAGE_SIZE, SESSIONS_REVOKED, type Principal, type SessionsRevokedEvent } from '#libs/contracts/index.js';
import { ManualClock, type NatsLink } from '#libs/platform/index.js';
import { AuditService } from '../audit/audit.service.js';
import type { ActionTokensService } from '../credentials/action-tokens.service.js';
import { ThrottleService } from '../credentials/throttle.service.js';
import { Housekeeping } from '../database/housekeeping.js';
import { IdentityTestDatabase } from '../database/integration-harness-spec.js';
import { Transactions } from '../database/unit-of-work.js';
import { GateBroadcaster } from './gate-broadcaster.js';
import { SessionsService } from './sessions.service.js';
import { SigningKeysService } from './signing-keys.service.js';
import { signInClientOf } from './user-agent.js';

const FROM = signInClientOf('127.0.0.1', undefined);
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const db = new IdentityTestDatabase();
const published: Array<{ subject: string; payload: unknown }> = [];
let clock: ManualClock;
let sessions: SessionsService;
/** A replica still running with the access-token lifetime of before (an hour), as during a rollout that shortens it to 15 minutes. */
let hourPod: SessionsService;
let user: Principal;
let subuser: Principal;

beforeAll(async () => {
  await db.start({ SUBUSER_SESSION_TTL_HOURS: '8', REFRESH_TOKEN_TTL_DAYS: '30', ACCESS_TOKEN_TTL_SECONDS: '900' });
  const { accountId, userId } = await db.account();
  user = { type: 'user', id: userId };
  subuser = { type: 'subuser', id: await db.subuser(accountId) };
  const keys = new SigningKeysService(db.dataSource, db.config, { error: () => undefined } as unknown as Logger);
  await keys.onModuleInit();
  const link = {
    connection: { publish: (subject: string, payload: string) => published.push({ subject, payload: JSON.parse(payload) }) },
  } as unknown as NatsLink;
  clock = new ManualClock();
  const broadcaster = new GateBroadcaster(link, { warn: () => undefined } as unknown as Logger);
  /** A replica with `config` (it never voids a sign-in challenge here: no links service). */
  const replica = (config: typeof db.config) =>
    new SessionsService(
      db.dataSource,
      new Transactions(db.dataSource),
      keys,
      broadcaster,
      new AuditService(db.dataSource),
      {} as ActionTokensService,
      clock,
      config,
    );
  sessions = replica(db.config);
  hourPod = replica({ ...db.config, ACCESS_TOKEN_TTL_SECONDS: 3600 });
});
afterAll(() => db.stop());

const open = (principal: Principal, accountId: string | null = null) =>
  db.dataSource.transaction((manager) => sessions.open(manager, principal, accountId, FROM));

describe('session lifetimes with a controllable clock (S5)', () => {
  it('ends a subuser session 8 hours after sign-in, however often it is refreshed', async () => {
    let pair = await open(subuser);
    for (let step = 0; step < 7; step += 1) {
      clock.advance(HOUR);
      pair = await sessions.refresh(pair.refreshToken, FROM);
    }
    clock.advance(55 * MINUTE);
    pair = await sessions.refresh(pair.refreshToken, FROM);
    expect(pair.expiresIn).toBe(5 * 60);
    clock.advance(5 * MINUTE);
    await expect(sessions.refresh(pair.refreshToken, FROM)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
  });

  it('keeps a user session for 30 days', async () => {
    let pair = await open(user);
    clock.advance(8 * HOUR);
    pair = await sessions.refresh(pair.refreshToken, FROM);
    expect(pair.expiresIn).toBe(900);
    clock.advance(30 * 24 * HOUR);
    await expect(sessions.refresh(pair.refreshToken, FROM)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
  });

  it('never issues an access token outliving its session', async () => {
    const pair = await open(subuser);
    const { exp, iat } = JSON.parse(Buffer.from(pair.accessToken.split('.')[1], 'base64url').toString()) as { exp: number; iat: number };
    expect(exp - iat).toBe(900);
    clock.advance(8 * HOUR - 2 * MINUTE);
    const late = await sessions.refresh(pair.refreshToken, FROM);
    const claims = JSON.parse(Buffer.from(late.accessToken.split('.')[1], 'base64url').toString()) as { exp: number; iat: number };
    expect(claims.exp - claims.iat).toBe(120);
  });
});

describe('rotation and revocation on PostgreSQL (S1, S3)', () => {
  it('ends the session when a rotated refresh token comes back, and tells the gateways', async () => {
    const first = await open(user);
    const second = await sessions.refresh(first.refreshToken, FROM);
    published.length = 0;
    await expect(sessions.refresh(first.refreshToken, FROM)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    await expect(sessions.refresh(second.refreshToken, FROM)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    const sid = (JSON.parse(Buffer.from(second.accessToken.split('.')[1], 'base64url').toString()) as { sid: string }).sid;
    expect(published).toEqual([{ subject: SESSIONS_REVOKED, payload: { sessions: [{ id: sid, until: expect.any(String) }] } }]);
    const until = Date.parse((published[0].payload as SessionsRevokedEvent).sessions[0].until);
    expect(until - clock.now().getTime()).toBeGreaterThanOrEqual(900_000);
  });

  it('lets only one of two parallel refreshes with the same token win, and ends the session for the other', async () => {
    const pair = await open(user);
    const outcomes = await Promise.allSettled([sessions.refresh(pair.refreshToken, FROM), sessions.refresh(pair.refreshToken, FROM)]);
    expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(1);
    const winner = outcomes.find((outcome) => outcome.status === 'fulfilled')!.value;
    await expect(sessions.refresh(winner.refreshToken, FROM)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
  });

  it('lists revoked sessions for the gateways only within an access-token lifetime', async () => {
    const pair = await open(user);
    await sessions.logout(pair.refreshToken, '127.0.0.1');
    const sid = (JSON.parse(Buffer.from(pair.accessToken.split('.')[1], 'base64url').toString()) as { sid: string }).sid;
    expect((await sessions.gateState({})).revokedSessions.map((session) => session.id)).toContain(sid);
    clock.advance(16 * MINUTE);
    expect((await sessions.gateState({})).revokedSessions.map((session) => session.id)).not.toContain(sid);
  });
});

describe('revoked sessions whose access tokens were issued with a longer lifetime than today’s (S3)', () => {
  const claimsOf = (pair: { accessToken: string }) =>
    JSON.parse(Buffer.from(pair.accessToken.split('.')[1], 'base64url').toString()) as { sid: string; exp: number };

  it.each([
    ['signed in', (pair: Awaited<ReturnType<typeof open>>) => Promise.resolve(pair)],
    ['refreshed', (pair: Awaited<ReturnType<typeof open>>) => hourPod.refresh(pair.refreshToken, FROM)],
  ])('are refused until the last token %s on a replica of the longer lifetime expires, told at once and in the gate state', async (_label, lastIssued) => {
    const first = await db.dataSource.transaction((manager) => hourPod.open(manager, user, null, FROM));
    clock.advance(10 * MINUTE);
    const last = await lastIssued(first);
    const { sid, exp } = claimsOf(last);
    published.length = 0;
    await sessions.logout(last.refreshToken, '127.0.0.1');
    const told = (published[0].payload as SessionsRevokedEvent).sessions[0];
    expect(told.id).toBe(sid);
    expect(Date.parse(told.until)).toBeGreaterThanOrEqual(exp * 1000);
    const listed = async () => (await sessions.gateState({})).revokedSessions.find((session) => session.id === sid);
    clock.advance(20 * MINUTE);
    expect(Date.parse((await listed())!.until)).toBeGreaterThanOrEqual(exp * 1000);
    clock.advance(exp * 1000 + MINUTE - clock.now().getTime());
    expect(await listed()).toBeUndefined();
  });
});

describe('the gate state, in pages (S3)', () => {
  it('lists inactive memberships of people who can still sign in, page after page; not those with no active account', async () => {
    const active = await db.account();
    const inactive = await db.account();
    const count = GATE_STATE_PAGE_SIZE + 5;
    await db.dataSource.query(
      `INSERT INTO users (id, email, first_name, last_name, phone, status)
       SELECT md5('gate' || i)::uuid, 'gate' || i || '@example.test', 'G', 'S', '+447700900123', 'active' FROM generate_series(1, $1) AS i`,
      [count + 1],
    );
    await db.dataSource.query(
      `INSERT INTO memberships (account_id, user_id, active)
       SELECT $1::uuid, md5('gate' || i)::uuid, true FROM generate_series(1, $3) AS i
       UNION ALL SELECT $2::uuid, md5('gate' || i)::uuid, false FROM generate_series(1, $3 + 1) AS i`,
      [active.accountId, inactive.accountId, count],
    );
    const suspended: string[] = [];
    let page = await sessions.gateState({});
    // A finished list of accounts requiring a second step is not named: an identity of the release before would refuse the key.
    expect(page.next).not.toHaveProperty('secondStepAfter');
    let pages = 1;
    for (;;) {
      suspended.push(...page.suspended.map((entry) => entry.principalId));
      if (!page.next) break;
      page = await sessions.gateState(page.next);
      pages += 1;
    }
    expect(pages).toBe(2);
    expect(new Set(suspended).size).toBe(count);
    expect(suspended).not.toContain((await db.dataSource.query(`SELECT md5('gate' || $1::int)::uuid AS id`, [count + 1]))[0].id);
  });
});

describe('housekeeping', () => {
  it('removes sessions a day after they ended by expiry, with their retired refresh tokens, and keeps the others', async () => {
    const housekeeping = new Housekeeping(db.dataSource, new ThrottleService(db.dataSource, clock), clock, {
      info: () => undefined,
      warn: () => undefined,
    } as unknown as Logger);
    const old = await open(subuser);
    await sessions.refresh(old.refreshToken, FROM);
    clock.advance(8 * HOUR + 25 * HOUR);
    const fresh = await open(user);
    const removed = await housekeeping.sweep();
    expect(removed.sessions).toBeGreaterThanOrEqual(1);
    await expect(sessions.refresh(old.refreshToken, FROM)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    await sessions.refresh(fresh.refreshToken, FROM);
    const [{ count }] = await db.dataSource.query<Array<{ count: string }>>(
      `SELECT count(*) FROM retired_refresh_tokens r LEFT JOIN sessions s ON s.id = r.session_id WHERE s.id IS NULL`,
    );
    expect(count).toBe('0');
  });
});

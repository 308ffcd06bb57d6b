import { createHash, randomUUID } from 'node:crypto';
import { Events, SESSIONS_REVOKED, type SessionsRevokedEvent } from '#libs/contracts/index.js';
import { freshIdentityServices } from '../database/services-harness-spec.js';

const client = { ip: '10.31.0.1' };
const { db, services } = freshIdentityServices(undefined, { MAX_KEYS_PER_SERVICE_ACCOUNT: '2', SERVICE_ACCOUNT_TOKEN_TTL_SECONDS: '600' });

/** An account, its owner as the actor, and a service account of it. */
async function serviceAccountInAccount() {
  const { accountId, userId } = await db.account();
  const admin = services.actor('user', userId);
  const { id } = await services.serviceAccounts.create({
    actor: admin,
    accountId,
    client,
    body: { name: `sync-${randomUUID().slice(0, 6)}`, roles: ['Developer'] },
  });
  return { accountId, admin, serviceAccountId: id };
}

type Setup = Awaited<ReturnType<typeof serviceAccountInAccount>>;

function createKey({ accountId, admin, serviceAccountId }: Setup, expiresAt?: string) {
  return services.serviceAccountKeys.create({ actor: admin, accountId, serviceAccountId, client, body: expiresAt ? { expiresAt } : {} });
}

function exchange(clientId: string, clientSecret: string, ip = client.ip) {
  return services.tokenExchange.exchange({ clientId, clientSecret, client: { ip } });
}

function claimsOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8')) as Record<string, unknown>;
}

/** What an exchange was refused with (it must be refused). */
async function refusal(attempt: Promise<unknown>): Promise<{ code: string; message: string }> {
  const error = (await attempt.then(
    () => {
      throw new Error('The exchange was not refused');
    },
    (reason: unknown) => reason,
  )) as { code: string; message: string };
  return { code: error.code, message: error.message };
}

/** The sessions the gateways heard were ended, so far. */
function heardEnded(): string[] {
  return services.broadcasts
    .filter((broadcast) => broadcast.subject === SESSIONS_REVOKED)
    .flatMap((broadcast) => (broadcast.payload as SessionsRevokedEvent).sessions.map((session) => session.id));
}

describe('service account keys', () => {
  it('answer their secret once, 256 random bits, kept only as its SHA-256 hash; listed by id and hint alone', async () => {
    const setup = await serviceAccountInAccount();

    const key = await createKey(setup);

    expect(key.secret).toMatch(/^psk_[A-Za-z0-9_-]{43}$/);
    expect(key.hint).toBe(key.secret.slice(0, 8));
    const [row] = await db.dataSource.query<Array<{ secret_hash: string }>>('SELECT secret_hash FROM service_account_keys WHERE id = $1', [key.id]);
    expect(row.secret_hash).toBe(createHash('sha256').update(key.secret).digest('hex'));
    const [{ found }] = await db.dataSource.query<Array<{ found: number }>>(
      `SELECT (SELECT count(*) FROM service_account_keys k WHERE k::text LIKE $1) + (SELECT count(*) FROM audit_events a WHERE a::text LIKE $1)
         + (SELECT count(*) FROM sessions s WHERE s::text LIKE $1) AS found`,
      [`%${key.secret.slice(4)}%`],
    );
    expect(Number(found)).toBe(0);
    const listed = await services.serviceAccountKeys.list({ actor: setup.admin, accountId: setup.accountId, serviceAccountId: setup.serviceAccountId, client });
    expect(listed).toEqual([{ id: key.id, hint: key.hint, createdAt: key.createdAt, expiresAt: null, lastUsedAt: null }]);
  });

  it('exchange for a short-lived token whose principal is the service account, in its account, as a session of the key; audited', async () => {
    const setup = await serviceAccountInAccount();
    const key = await createKey(setup);

    const token = await exchange(key.id, key.secret);

    expect(token).toMatchObject({ token_type: 'Bearer', expires_in: 600 });
    const claims = claimsOf(token.access_token);
    expect(claims).toMatchObject({ sub: setup.serviceAccountId, pty: 'service-account', typ: 'access' });
    const [session] = await db.dataSource.query<Array<{ account_id: string; service_account_key_id: string; revoked_at: Date | null }>>(
      'SELECT account_id, service_account_key_id, revoked_at FROM sessions WHERE id = $1',
      [claims.sid],
    );
    expect(session).toEqual({ account_id: setup.accountId, service_account_key_id: key.id, revoked_at: null });
    const [used] = await services.serviceAccountKeys.list({ actor: setup.admin, accountId: setup.accountId, serviceAccountId: setup.serviceAccountId, client });
    expect(used.lastUsedAt).toBe(services.clock.now().toISOString());
    const audited = await db.dataSource.query<Array<{ action: string; actor_id: string; ip: string }>>(
      `SELECT action, actor_id, ip FROM audit_events WHERE account_id = $1 AND action LIKE 'service-account.token%'`,
      [setup.accountId],
    );
    expect(audited).toEqual([{ action: 'service-account.token-issued', actor_id: setup.serviceAccountId, ip: client.ip }]);
  });

  it('are refused alike: unknown id, wrong secret, revoked or expired key, inactive or deleted service account (each audited)', async () => {
    const setup = await serviceAccountInAccount();
    const { accountId, admin, serviceAccountId } = setup;
    const expiring = await createKey(setup, new Date(services.clock.now().getTime() + 3600_000).toISOString());
    const revoked = await createKey(setup);
    await services.serviceAccountKeys.revoke({ actor: admin, accountId, serviceAccountId, keyId: revoked.id, client });
    const other = await serviceAccountInAccount();
    const ofDeleted = await createKey(other);
    await services.serviceAccounts.remove({ actor: other.admin, accountId: other.accountId, serviceAccountId: other.serviceAccountId, client });

    const refusals = [
      await refusal(exchange(randomUUID(), expiring.secret)),
      await refusal(exchange('not-a-key', expiring.secret)),
      await refusal(exchange(expiring.id, `${expiring.secret}x`)),
      await refusal(exchange(revoked.id, revoked.secret)),
      await refusal(exchange(ofDeleted.id, ofDeleted.secret)),
    ];
    await services.serviceAccounts.update({ actor: admin, accountId, serviceAccountId, client, body: { active: false } });
    refusals.push(await refusal(exchange(expiring.id, expiring.secret)));
    await services.serviceAccounts.update({ actor: admin, accountId, serviceAccountId, client, body: { active: true } });
    services.clock.advance(3600_000);
    refusals.push(await refusal(exchange(expiring.id, expiring.secret)));

    expect(new Set(refusals.map((refused) => JSON.stringify(refused)))).toEqual(
      new Set([JSON.stringify({ code: 'INVALID_CREDENTIALS', message: 'Client id or secret is incorrect, or the key is revoked or expired' })]),
    );
    const reasons = await db.dataSource.query<Array<{ reason: string }>>(
      `SELECT details->>'reason' AS reason FROM audit_events WHERE account_id = $1 AND action = 'service-account.token-refused' ORDER BY occurred_at`,
      [accountId],
    );
    expect(reasons.map((row) => row.reason)).toEqual(['wrong-secret', 'revoked', 'inactive', 'expired']);
  });

  it("give tokens that never outlive the key's expiry", async () => {
    const setup = await serviceAccountInAccount();
    const key = await createKey(setup, new Date(services.clock.now().getTime() + 120_000).toISOString());

    const token = await exchange(key.id, key.secret);

    expect(token.expires_in).toBe(120);
    expect(claimsOf(token.access_token).exp).toBe(Math.floor(services.clock.now().getTime() / 1000) + 120);
  });

  it('once revoked, end the tokens issued for them at once (the gateways hear it), and only those', async () => {
    const setup = await serviceAccountInAccount();
    const [revoked, kept] = [await createKey(setup), await createKey(setup)];
    const [first, second, ofKept] = [
      await exchange(revoked.id, revoked.secret),
      await exchange(revoked.id, revoked.secret),
      await exchange(kept.id, kept.secret),
    ];

    await services.serviceAccountKeys.revoke({
      actor: setup.admin,
      accountId: setup.accountId,
      serviceAccountId: setup.serviceAccountId,
      keyId: revoked.id,
      client,
    });

    const ended = heardEnded();
    expect(ended).toEqual(expect.arrayContaining([claimsOf(first.access_token).sid, claimsOf(second.access_token).sid]));
    expect(ended).not.toContain(claimsOf(ofKept.access_token).sid);
    const listed = await services.serviceAccountKeys.list({ actor: setup.admin, accountId: setup.accountId, serviceAccountId: setup.serviceAccountId, client });
    expect(listed.map((key) => key.id)).toEqual([kept.id]);
    await expect(
      services.serviceAccountKeys.revoke({
        actor: setup.admin,
        accountId: setup.accountId,
        serviceAccountId: setup.serviceAccountId,
        keyId: revoked.id,
        client,
      }),
    ).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('once revoked or their service account deactivated, end only the tokens still valid (an expired one is not broadcast, nor listed again)', async () => {
    const setup = await serviceAccountInAccount();
    const [key, other] = [await createKey(setup), await createKey(setup)];
    const [expired, expiredOfOther] = [await exchange(key.id, key.secret), await exchange(other.id, other.secret)];
    // Past their 600 s and the 30 s a gateway's clock may be late.
    services.clock.advance(631_000);
    const [live, liveOfOther] = [await exchange(key.id, key.secret), await exchange(other.id, other.secret)];

    await services.serviceAccountKeys.revoke({
      actor: setup.admin,
      accountId: setup.accountId,
      serviceAccountId: setup.serviceAccountId,
      keyId: key.id,
      client,
    });
    await services.serviceAccounts.update({ ...setup, actor: setup.admin, client, body: { active: false } });

    const ended = heardEnded();
    expect(ended).toEqual(expect.arrayContaining([claimsOf(live.access_token).sid, claimsOf(liveOfOther.access_token).sid]));
    expect(ended).not.toContain(claimsOf(expired.access_token).sid);
    expect(ended).not.toContain(claimsOf(expiredOfOther.access_token).sid);
  });

  it('end with their service account: deactivated or deleted, every token it holds is ended at once', async () => {
    const deactivated = await serviceAccountInAccount();
    const deleted = await serviceAccountInAccount();
    const [one, two] = [await createKey(deactivated), await createKey(deleted)];
    const [tokenOne, tokenTwo] = [await exchange(one.id, one.secret), await exchange(two.id, two.secret)];

    await services.serviceAccounts.update({ ...deactivated, actor: deactivated.admin, client, body: { active: false } });
    await services.serviceAccounts.remove({ ...deleted, actor: deleted.admin, client });

    expect(heardEnded()).toEqual(expect.arrayContaining([claimsOf(tokenOne.access_token).sid, claimsOf(tokenTwo.access_token).sid]));
    expect(await db.dataSource.query('SELECT 1 FROM service_account_keys WHERE id = $1', [two.id])).toEqual([]);
  });

  it('tell access when their service account is deactivated or reactivated (identity.principal.activity-changed), as for a subuser', async () => {
    const setup = await serviceAccountInAccount();
    const edit = (active: boolean) => services.serviceAccounts.update({ ...setup, actor: setup.admin, client, body: { active } });

    await edit(false);
    await edit(false);
    await edit(true);

    const events = await db.dataSource.query<Array<{ changes: Array<Record<string, unknown>> }>>(
      `SELECT payload->'data'->'changes' AS changes FROM outbox WHERE type = $1 AND payload->'data'->>'accountId' = $2 ORDER BY created_at`,
      [Events.PrincipalActivityChanged, setup.accountId],
    );
    expect(events.map((event) => event.changes.map(({ principalType, principalId, active }) => ({ principalType, principalId, active })))).toEqual([
      [{ principalType: 'service-account', principalId: setup.serviceAccountId, active: false }],
      [{ principalType: 'service-account', principalId: setup.serviceAccountId, active: true }],
    ]);
  });

  it('are at most MAX_KEYS_PER_SERVICE_ACCOUNT live at once (409 naming the limit); a revoked one makes room', async () => {
    const setup = await serviceAccountInAccount();
    const first = await createKey(setup);
    await createKey(setup);

    await expect(createKey(setup)).rejects.toMatchObject({ code: 'CONFLICT', details: { limit: 2 } });
    await services.serviceAccountKeys.revoke({
      actor: setup.admin,
      accountId: setup.accountId,
      serviceAccountId: setup.serviceAccountId,
      keyId: first.id,
      client,
    });
    await expect(createKey(setup)).resolves.toMatchObject({ hint: expect.stringMatching(/^psk_/) });
  });

  it('refuse bad input with a 4xx naming it: an expiry not in the future, a name taken, a service account managing itself', async () => {
    const setup = await serviceAccountInAccount();
    const { accountId, admin, serviceAccountId } = setup;
    const [name] = await db.dataSource.query<Array<{ name: string }>>('SELECT name FROM service_accounts WHERE id = $1', [serviceAccountId]);
    const itself = services.actor('service-account', serviceAccountId);

    await expect(createKey(setup, services.clock.now().toISOString())).rejects.toMatchObject({ code: 'VALIDATION_FAILED', details: { field: 'expiresAt' } });
    await expect(
      services.serviceAccounts.create({ actor: admin, accountId, client, body: { name: name.name.toUpperCase(), roles: ['Developer'] } }),
    ).rejects.toMatchObject({ code: 'CONFLICT', details: { field: 'name' } });
    await expect(services.serviceAccountKeys.create({ actor: itself, accountId, serviceAccountId, client, body: {} })).rejects.toMatchObject({
      code: 'FORBIDDEN',
    });
    await expect(services.serviceAccounts.update({ actor: itself, accountId, serviceAccountId, client, body: { active: true } })).rejects.toMatchObject({
      code: 'FORBIDDEN',
    });
  });

  it("stay in their account: another account's admin finds neither the service account nor its keys", async () => {
    const setup = await serviceAccountInAccount();
    const key = await createKey(setup);
    const stranger = await db.account();
    const actor = services.actor('user', stranger.userId);
    const theirs = { actor, accountId: stranger.accountId, serviceAccountId: setup.serviceAccountId, client };
    const ours = { ...theirs, accountId: setup.accountId };

    for (const request of [theirs, ours]) {
      await expect(services.serviceAccounts.get(request)).rejects.toMatchObject({ code: 'NOT_FOUND' });
      await expect(services.serviceAccountKeys.list(request)).rejects.toMatchObject({ code: 'NOT_FOUND' });
      await expect(services.serviceAccountKeys.revoke({ ...request, keyId: key.id })).rejects.toMatchObject({ code: 'NOT_FOUND' });
      await expect(services.serviceAccounts.update({ ...request, body: { active: false } })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    }
    const page = await services.serviceAccounts.list({ actor, accountId: stranger.accountId, client, query: {} });
    expect(page.items).toEqual([]);
    await expect(exchange(key.id, key.secret)).resolves.toMatchObject({ token_type: 'Bearer' });
  });

  it("charge the client address's sign-in counter: past its threshold, even the right secret waits (429)", async () => {
    const setup = await serviceAccountInAccount();
    const key = await createKey(setup);
    const ip = '10.31.9.9';

    for (let attempt = 0; attempt < 20; attempt += 1) await refusal(exchange(key.id, 'wrong', ip));

    await expect(exchange(key.id, key.secret, ip)).rejects.toMatchObject({ code: 'TOO_MANY_REQUESTS' });
    await expect(exchange(key.id, key.secret)).resolves.toMatchObject({ token_type: 'Bearer' });
  });
});

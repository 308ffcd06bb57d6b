import { Events, linkTokenHash } from '#libs/contracts/index.js';
import { eventually } from '#libs/testing/eventually.js';
import { freshIdentityServices, SideConnection } from '../database/services-harness-spec.js';

const client = { ip: '10.8.0.9' };
const { db, services } = freshIdentityServices();

describe('removing a pending person', () => {
  it('names every link that dies with it in identity.links.voided: the invitation, and a reset it asked for itself', async () => {
    const { accountId, userId: ownerId } = await db.account();
    const admin = services.actor('user', ownerId);
    const email = `pending-${Date.now()}@example.test`;
    const { id } = await services.users.create({
      actor: admin,
      accountId,
      client,
      body: { email, firstName: 'Pat', lastName: 'Quinn', phone: '+447700900123', role: 'Developer' } as never,
    });
    await services.resets.request({ body: { email }, client });
    let reset = '';
    await eventually('the reset link to be issued', async () => {
      reset = await services.lastLinkToken(Events.PasswordResetRequested, id).catch(() => '');
      return reset !== '';
    });
    const activation = await services.lastLinkToken(Events.UserInvited, id);

    await services.users.revokeInvitation({ actor: admin, accountId, userId: id, client });

    expect(await db.dataSource.query(`SELECT count(*)::int AS n FROM action_tokens WHERE user_id = $1`, [id])).toEqual([{ n: 0 }]);
    const voided = await services.voidedLinkHashes();
    expect(voided.has(linkTokenHash(activation))).toBe(true);
    expect(voided.has(linkTokenHash(reset))).toBe(true);
  });
});

describe('two removals of one pending person at once', () => {
  it('remove them once: the other answers 404 User not found, never a 500', async () => {
    const { accountId, userId: ownerId } = await db.account();
    const admin = services.actor('user', ownerId);
    const { id } = await services.users.create({
      actor: admin,
      accountId,
      client,
      body: { email: `twice-${Date.now()}@example.test`, firstName: 'Pat', lastName: 'Quinn', phone: '+447700900123', role: 'Developer' } as never,
    });
    const request = { actor: admin, accountId, userId: id, client };
    const side = new SideConnection(db);
    await side.open();
    try {
      // The first removal waits, uncommitted, at its events; the second waits for the membership the first took.
      await side.holdOutbox();
      const first = services.users.remove(request);
      await side.untilWaiting(1);
      const second = services.users.revokeInvitation(request);
      await side.untilWaiting(2);
      await side.release();
      const outcomes = await Promise.allSettled([first, second]);
      expect(outcomes).toMatchObject([
        { status: 'fulfilled', value: { removed: true } },
        { status: 'rejected', reason: { code: 'NOT_FOUND', message: 'User not found' } },
      ]);
    } finally {
      await side.close();
    }
  });
});

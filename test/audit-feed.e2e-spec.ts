import { eventually } from '#libs/testing/eventually.js';
import { TestSystem } from '#libs/testing/system.js';
import { bearer, People, type SignedIn } from './helpers/people.js';

type FeedPage = { items: Array<{ action: string; target: { id: string } | null }>; nextCursor: string };

/** `GET /v1/accounts/{id}/audit-events/feed`: the trail oldest first, read on from a cursor (docs/identity.md, "Following the trail"). */
describe("an account's audit feed over HTTP", () => {
  const system = new TestSystem();
  const people = new People(system);
  let owner: SignedIn;
  let support: SignedIn;
  let stranger: SignedIn;

  beforeAll(async () => {
    await system.start();
    [owner, stranger] = await Promise.all([people.signUp('feed'), people.signUp('elsewhere-feed')]);
    support = await people.member(owner, 'support@feed.test', 'Support');
  });
  afterAll(() => system.stop());

  const feed = (who: SignedIn, query: Record<string, string | number>, accountId = owner.accountId) =>
    people.http.get(`/v1/accounts/${accountId}/audit-events/feed`).query(query).set(bearer(who.accessToken));

  /** Reads on from `cursor` until `done` holds of everything read since (access's events come through identity's consumer a moment later). */
  async function readOn(cursor: string, done: (items: FeedPage['items']) => boolean): Promise<{ items: FeedPage['items']; cursor: string }> {
    const items: FeedPage['items'] = [];
    await eventually('the events in the feed', async () => {
      const page = (await feed(owner, { cursor, limit: 2 }).expect(200)).body as FeedPage;
      items.push(...page.items);
      cursor = page.nextCursor;
      return done(items);
    });
    return { items, cursor };
  }

  it("gives the account's events oldest first, and what was written since, access's role changes too, from where the reader stopped", async () => {
    const start = (await feed(owner, { limit: 1 }).expect(200)).body as FeedPage;
    expect(start.items.map((item) => item.action)).toEqual(['account.created']);
    // Read on past everything of the member added before (their role change comes through access's events).
    const ofSupport = (items: FeedPage['items']) => new Set(items.filter((item) => item.target?.id === support.userId).map((item) => item.action));
    const { cursor } = await readOn(start.nextCursor, (items) =>
      ['user.invited', 'roles.changed', 'user.activated', 'login.succeeded'].every((action) => ofSupport(items).has(action)),
    );

    const invitedId = await people.invite(owner, { email: 'new@feed.test', role: 'Developer' });

    const since = await readOn(cursor, (items) => items.some((item) => item.action === 'roles.changed' && item.target?.id === invitedId));
    expect(since.items.map((item) => item.action)).toEqual(expect.arrayContaining(['user.invited', 'roles.changed']));
    expect(since.items.every((item) => item.target?.id === invitedId)).toBe(true);
  });

  it('is refused without audit:read (403) and answers another account 404', async () => {
    expect((await feed(support, {}).expect(403)).body.message).toBe('Missing permission audit:read');
    await feed(stranger, {}).expect(404);
  });

  it.each([
    ['start', { start: 'newest' }],
    ['cursor', { cursor: 'not-one-we-gave' }],
    ['start', { start: 'now', cursor: Buffer.from(JSON.stringify(['audit-feed', 'feed', '1', '00000000-0000-0000-0000-000000000000'])).toString('base64url') }],
  ])('answers a bad %s with a 400 naming it', async (field, query) => {
    const response = await feed(owner, query).expect(400);
    expect(JSON.stringify(response.body)).toContain(field);
  });
});

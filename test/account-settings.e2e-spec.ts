import { randomUUID } from 'node:crypto';
import { TestSystem } from '#libs/testing/system.js';
import { bearer, People, type SignedIn } from './helpers/people.js';

/** An account's own settings: its name and the language of its mails (`PATCH /v1/accounts/{id}`). Each test stands alone. */
describe("an account's settings", () => {
  const system = new TestSystem();
  const people = new People(system);
  let owner: SignedIn;
  let admin: SignedIn;
  let stranger: SignedIn;

  beforeAll(async () => {
    await system.start();
    [owner, stranger] = await Promise.all([people.signUp('settings'), people.signUp('elsewhere')]);
    admin = await people.member(owner, 'admin@settings.test', 'Admin');
  });
  afterAll(() => system.stop());

  const update = (who: SignedIn, body: unknown, accountId = owner.accountId) =>
    people.http
      .patch(`/v1/accounts/${accountId}`)
      .set(bearer(who.accessToken))
      .send(body as object);
  const read = async () =>
    (await people.http.get(`/v1/accounts/${owner.accountId}`).set(bearer(owner.accessToken)).expect(200)).body as Record<string, unknown>;
  const auditOfUpdates = async () =>
    (await people.http.get(`/v1/accounts/${owner.accountId}/audit-events?action=account.updated`).set(bearer(owner.accessToken)).expect(200)).body
      .items as Array<{ actor: unknown; details: Record<string, unknown> }>;

  it('lets the owner rename the account and change its language; people added from then on are written to in it; the slug stays', async () => {
    const name = `Réglages & Co ${randomUUID().slice(0, 4)}`;

    const updated = await update(owner, { name, locale: 'fr' }).expect(200);

    expect(updated.body).toMatchObject({ id: owner.accountId, name, locale: 'fr', slug: 'settings' });
    expect(await read()).toMatchObject({ name, locale: 'fr', slug: 'settings' });
    const email = `new-${randomUUID().slice(0, 8)}@settings.test`;
    await people.invite(owner, { email, role: 'Support' });
    expect((await people.nthMail(email)).subject).toBe(`Portico : activez votre accès à ${name}`);
  });

  it('is refused to an admin where only the owner may change the account (403), and answers another account 404', async () => {
    const before = await read();
    expect((await update(admin, { name: 'Taken over' }).expect(403)).body.message).toBe('Missing permission account:write');
    await update(stranger, { name: 'Taken over' }).expect(404);
    await update(owner, { name: 'Taken over' }, randomUUID()).expect(404);
    expect(await read()).toEqual(before);
  });

  it.each([
    ['an empty name', { name: '' }, 'name must be 1 to 100 characters'],
    ['a name of 101 characters', { name: 'x'.repeat(101) }, 'name must be 1 to 100 characters'],
    ['a null name', { name: null }, 'name must be a string'],
    ['a language that is not a tag', { locale: 'French' }, 'locale must be a language tag such as en, fr or fr-CA'],
    ['a null language', { locale: null }, 'locale must be a string'],
    ['a new slug', { slug: 'moved' }, 'field slug should not exist'],
    ['a new owner', { ownerId: randomUUID() }, 'field ownerId should not exist'],
  ])('refuses %s with 400 naming the problem, and changes nothing', async (_case, body, problem) => {
    const before = await read();
    const refused = await update(owner, body).expect(400);
    expect(refused.body.message).toContain(problem);
    expect(await read()).toEqual(before);
  });

  it('records each change in the audit trail with what it replaced; a request that changes nothing records nothing', async () => {
    const before = await read();
    const name = `Audited ${randomUUID().slice(0, 8)}`;
    const locale = before.locale === 'fr' ? 'en' : 'fr';
    await update(owner, { name, locale }).expect(200);
    const recorded = (await auditOfUpdates()).length;

    await update(owner, { name, locale }).expect(200);
    await update(owner, {}).expect(200);

    const audit = await auditOfUpdates();
    expect(audit).toHaveLength(recorded);
    expect(audit.find((event) => event.details.name === name)).toEqual(
      expect.objectContaining({
        actor: { type: 'user', id: owner.userId },
        details: { changed: ['name', 'locale'], previousName: before.name, previousLocale: before.locale, name, locale },
      }),
    );
  });
});

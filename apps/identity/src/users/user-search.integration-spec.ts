import { SEARCH_TOO_SHORT } from '#libs/contracts/index.js';
import { freshIdentityServices } from '../database/services-harness-spec.js';

const { db, services } = freshIdentityServices();

/** The user table of a fresh account (its owner, Ada Lovelace) searched for `search` by the owner, as identity's subject receives it (no gateway before it). */
async function search(search: string): Promise<string[]> {
  const { accountId, userId } = await db.account();
  const page = await services.users.list({ actor: services.actor('user', userId), accountId, client: { ip: '10.0.0.1' }, query: { search, limit: 50 } });
  return page.items.map((item) => item.lastName);
}

describe('a user-table search, as PostgreSQL folds it', () => {
  it.each([
    ['three combining accents, which unaccent drops (LIKE would match everyone)', '\u0301\u0301\u0301'],
    ['a letter and two accents', 'a\u0301\u0301'],
    ['three enclosing circles, which unaccent drops', '\u20dd\u20dd\u20dd'],
  ])('is refused with 400 VALIDATION_FAILED naming search when fewer than 3 characters are left: %s', async (_label, term) => {
    await expect(search(term)).rejects.toMatchObject({ code: 'VALIDATION_FAILED', message: SEARCH_TOO_SHORT, details: { field: 'search' } });
  });

  it.each(['love', 'LOVÉ', 'lo\u0301ve', '  love '])('finds what is left: %j', async (term) => {
    expect(await search(term)).toEqual(['Lovelace']);
  });
});

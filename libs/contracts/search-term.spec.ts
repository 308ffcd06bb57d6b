import { plainToInstance } from 'class-transformer';
import { validate } from 'class-validator';
import { ListUsersQuery, SEARCH_TOO_SHORT, searchableLength } from './users.contract.js';

describe('searchableLength: the characters of a search term that folding keeps, spaces aside', () => {
  it.each([
    ['zoe', 3],
    [' z o e ', 3],
    ['zoé', 3],
    ['zoe\u0301', 3],
    ['\u0301\u0301\u0301', 0],
    ['a\u0301\u0301', 1],
    ['\u20dd\u20dd\u20dd', 0],
    ['\u1dc0\ufe20\u1ab0', 0],
    ['\u3000a\u3000b', 2],
    ['😀😀😀', 3],
    // Marks of one script stay (folding keeps them): Devanagari "kim", Thai "kin".
    ['किम', 3],
    ['กิน', 3],
  ])('%j: %i', (term, length) => {
    expect(searchableLength(term)).toBe(length);
  });
});

describe('the user table search', () => {
  const problems = async (search: string) =>
    (await validate(plainToInstance(ListUsersQuery, { search }))).find((error) => error.property === 'search')?.constraints;

  it.each(['zoe', 'Zoé', 'zo\u0301e', '+44', 'किम', ' a b c '])('accepts %j', async (search) => {
    expect(await problems(search)).toBeUndefined();
  });

  it.each([
    ['three combining accents (folded away: LIKE would match everyone)', '\u0301\u0301\u0301'],
    ['a letter and two accents', 'a\u0301\u0301'],
    ['three enclosing circles', '\u20dd\u20dd\u20dd'],
    ['spaces around two letters', '  z o '],
  ])('refuses %s, naming search', async (_label, search) => {
    expect(await problems(search)).toMatchObject({ isSearchable: SEARCH_TOO_SHORT });
  });

  it('says a term too short once, and one too long that it is', async () => {
    expect(await problems('gr')).toEqual({ isSearchable: SEARCH_TOO_SHORT });
    expect(await problems('g'.repeat(101))).toEqual({ codePointLength: 'search must be at most 100 characters' });
  });
});

import { plainToInstance } from 'class-transformer';
import { validate } from 'class-validator';
import { CreateRoleBody, ApplicationBody } from './access.contract.js';
import { PersonBody, UpdateAccountBody } from './accounts.contract.js';
import { UpdateProfileBody, UpdateUserBody } from './users.contract.js';
import { hasVisibleText } from './visible-text.js';

describe('hasVisibleText', () => {
  it.each(['Ada', ' Ada ', 'É', '李', 'a\tb', '\u200bAda', '\u{1F468}\u200d\u{1F469}', 'نیما\u200cجان', '\u05e9\u05dc\u05d5\u05dd\u200f'])(
    'accepts %j',
    (text) => {
      expect(hasVisibleText(text)).toBe(true);
    },
  );

  it.each(
    [
      ['', ' ', '\t', '\u00a0', '\u3000', '\r\n', '\u2028', '\u0000', '\u0085'],
      // Drawn as nothing: zero-width space, joiner and non-joiner, direction marks, soft hyphen, word joiner, BOM, variation selector.
      ['\u200b', '\u200d\u200c', '\u200e\u200f', '\u00ad', '\u2060', '\ufeff', '\ufe0f'],
      // The Hangul fillers blank names are made of.
      ['\u3164', '\u115f\u1160', 'ㅤ ㅤ'],
    ].flat(),
  )('refuses %j', (text) => {
    expect(hasVisibleText(text)).toBe(false);
  });
});

describe('name fields refuse a name of white space alone, naming the field (a mail naming it could not be written)', () => {
  const person = { firstName: 'Ada', lastName: 'Lovelace', email: 'ada@example.com', phone: '+447700900123' };

  it.each([
    ['a person added (first name)', PersonBody, { ...person, firstName: ' ' }, 'firstName'],
    ['a person added (last name)', PersonBody, { ...person, lastName: '\t' }, 'lastName'],
    ['an account renamed', UpdateAccountBody, { name: '  ' }, 'name'],
    ['a person edited by an admin', UpdateUserBody, { firstName: '\u3000' }, 'firstName'],
    ['a person editing themselves', UpdateProfileBody, { lastName: '\r\n' }, 'lastName'],
    ['a role', CreateRoleBody, { name: ' ', grants: [] }, 'name'],
    ['an application', ApplicationBody, { name: ' ' }, 'name'],
  ] as const)('%s', async (_what, type, body, field) => {
    const errors = await validate(plainToInstance(type as new () => object, body));
    expect(errors.find((error) => error.property === field)?.constraints).toMatchObject({
      hasVisibleText: `${field} must show something: not only spaces, control characters or other invisible ones`,
    });
  });

  it('accepts the same bodies with a name', async () => {
    expect(await validate(plainToInstance(PersonBody, person))).toEqual([]);
    expect(await validate(plainToInstance(UpdateAccountBody, { name: 'Acme' }))).toEqual([]);
  });
});

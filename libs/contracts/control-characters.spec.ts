import { plainToInstance } from 'class-transformer';
import { validate } from 'class-validator';
import { ApplicationBody, CreateRoleBody, UpdateRoleBody } from './access.contract.js';
import { CreateAccountBody, PersonBody, UpdateAccountBody } from './accounts.contract.js';
import { hasForbiddenControlCharacter } from './control-characters.js';
import { CreateSubuserBody, UpdateSubuserBody } from './subusers.contract.js';
import { UpdateProfileBody, UpdateUserBody } from './users.contract.js';

type Body = new () => object;

/** Every control character (Unicode's Cc), written out rather than taken from the expression under test. */
const CONTROL = [...Array.from({ length: 0x20 }, (_, code) => code), ...Array.from({ length: 0x21 }, (_, offset) => 0x7f + offset)].map((code) =>
  String.fromCodePoint(code),
);
/** The control characters a description keeps. */
const LAYOUT = ['\t', '\n', '\r'];

const label = (character: string) => `U+${character.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
const byCode = (characters: string[]) => characters.map((character) => [label(character), character] as const);

/** Text of letters, emoji and other scripts, with nothing a name or a description may not hold. */
const ORDINARY = [
  ['letters', 'Ada Lovelace'],
  ['accented letters', 'Élodie Müller-Øster'],
  ['emoji, one with a variation selector and one joined', 'Team 😀 ❤\uFE0F 👩\u200D💻'],
  ['Chinese', '李小龍'],
  ['Arabic (right to left)', 'مرحبا بالعالم'],
  ['Cyrillic', 'Пётр Ильич'],
  ['Devanagari', 'नमस्ते'],
  ['Japanese', '東京タワー'],
];

const person = { firstName: 'Ada', lastName: 'Lovelace', email: 'ada@example.com', phone: '+447700900123' };

/** Every name field that carries `IsName`: the body, valid but for it, and the field. */
const NAMES: Array<readonly [what: string, type: Body, body: Record<string, unknown>, field: string]> = [
  ['an account created', CreateAccountBody, { slug: 'acme', owner: person }, 'name'],
  ['an account renamed', UpdateAccountBody, {}, 'name'],
  ['a person added (first name)', PersonBody, person, 'firstName'],
  ['a person added (last name)', PersonBody, person, 'lastName'],
  ['a person edited by an admin', UpdateUserBody, {}, 'firstName'],
  ['a person editing themselves', UpdateProfileBody, {}, 'lastName'],
  ['a role created', CreateRoleBody, { grants: [] }, 'name'],
  ['a role renamed', UpdateRoleBody, {}, 'name'],
  ['an application', ApplicationBody, {}, 'name'],
];

/** Every description field: the body, valid but for it, and the field. */
const DESCRIPTIONS: Array<readonly [what: string, type: Body, body: Record<string, unknown>]> = [
  ['a role created', CreateRoleBody, { name: 'Auditor', grants: [] }],
  ['a role edited', UpdateRoleBody, {}],
  ['a subuser created', CreateSubuserBody, { login: 'desk', roles: ['Developer'] }],
  ['a subuser edited', UpdateSubuserBody, {}],
];

/** The messages of the problems `body` causes. */
async function problems(type: Body, body: Record<string, unknown>): Promise<string[]> {
  const errors = await validate(plainToInstance(type, body));
  return errors.flatMap((error) => Object.values(error.constraints ?? {}));
}

describe('hasForbiddenControlCharacter', () => {
  it('takes for control characters exactly Unicode Cc: U+0000 to U+001F and U+007F to U+009F', () => {
    const all = Array.from({ length: 0x3000 }, (_, code) => String.fromCodePoint(code));
    expect(all.filter((character) => hasForbiddenControlCharacter(character, 'name'))).toEqual(CONTROL);
  });

  it('lets a description keep tab, line feed and carriage return, and no other', () => {
    expect(CONTROL.filter((character) => !hasForbiddenControlCharacter(`a${character}b`, 'description'))).toEqual(LAYOUT);
  });

  it.each(['\u00a0', '\u2028', '\u200b', '\u200d', '\ufeff', '\ufe0f'])('leaves %j (not Cc) to the other rules', (character) => {
    expect(hasForbiddenControlCharacter(character, 'name')).toBe(false);
  });
});

describe.each(NAMES)('a name field (%s): no control character, on HTTP and NATS alike', (_what, type, body, field) => {
  it.each(byCode(CONTROL))('refuses %s inside a name, naming the field', async (_code, character) => {
    expect(await problems(type, { ...body, [field]: `Ada${character}Lovelace` })).toEqual([`${field} must not hold control characters`]);
  });

  it('refuses an ANSI colour escape, naming the field', async () => {
    expect(await problems(type, { ...body, [field]: '\u001b[31mAcme' })).toEqual([`${field} must not hold control characters`]);
  });

  it('refuses a name of control characters alone once, as showing nothing', async () => {
    expect(await problems(type, { ...body, [field]: '\u0000\u001b' })).toEqual([`${field} must show something: not only spaces or control characters`]);
  });

  it.each(ORDINARY)('accepts %s', async (_label, text) => {
    expect(await problems(type, { ...body, [field]: text })).toEqual([]);
  });
});

describe.each(DESCRIPTIONS)('a description (%s): tab and line breaks, no other control character', (_what, type, body) => {
  it.each(byCode(CONTROL.filter((character) => !LAYOUT.includes(character))))('refuses %s, naming the field', async (_code, character) => {
    expect(await problems(type, { ...body, description: `Reads${character}the audit trail` })).toEqual([
      'description must not hold control characters other than tab, line feed and carriage return',
    ]);
  });

  it('accepts tab, line feed and carriage return', async () => {
    expect(await problems(type, { ...body, description: 'Reads:\r\n\t- the audit trail\n\t- the delivery log' })).toEqual([]);
  });

  it.each([...ORDINARY, ['nothing', '']])('accepts %s', async (_label, text) => {
    expect(await problems(type, { ...body, description: text })).toEqual([]);
  });
});

import { plainToInstance } from 'class-transformer';
import { validate } from 'class-validator';
import { ApplicationBody, CreateRoleBody, UpdateRoleBody } from './access.contract.js';
import { CreateAccountBody, PersonBody, UpdateAccountBody } from './accounts.contract.js';
import { hasForbiddenCharacter } from './control-characters.js';
import { CreateSubuserBody, UpdateSubuserBody } from './subusers.contract.js';
import { UpdateProfileBody, UpdateUserBody } from './users.contract.js';

type Body = new () => object;

/** Every control character (Unicode's Cc), written out rather than taken from the expression under test. */
const CONTROL = [...Array.from({ length: 0x20 }, (_, code) => code), ...Array.from({ length: 0x21 }, (_, offset) => 0x7f + offset)].map((code) =>
  String.fromCodePoint(code),
);
/** The control characters a description keeps. */
const LAYOUT = ['\t', '\n', '\r'];
/**
 * What a name may not hold beyond the control characters, written out too: the bidirectional
 * embeddings and overrides (U+202A to U+202E), the line and paragraph separators (U+2028, U+2029)
 * and the bidirectional isolates (U+2066 to U+2069), in code point order.
 */
const REORDERING = [0x2028, 0x2029, 0x202a, 0x202b, 0x202c, 0x202d, 0x202e, 0x2066, 0x2067, 0x2068, 0x2069].map((code) => String.fromCodePoint(code));
/** The invisible characters a name keeps: the direction marks LRM and RLM, the zero-width non-joiner and joiner. */
const KEPT = ['\u200e', '\u200f', '\u200c', '\u200d'];
/** A name field's refusal of any of them. */
const REFUSED = 'must not hold control characters, direction overrides or line separators';

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
  ['an emoji family (joined by ZWJ)', 'The 👨\u200D👩\u200D👧\u200D👦 Smiths'],
  ['Persian with a zero-width non-joiner', 'علی\u200Cزاده'],
  ['Hebrew with a right-to-left mark before a bracket', 'שלום\u200F (Tel Aviv)'],
  ['Arabic with a left-to-right mark after a Latin name', 'شركة ACME\u200E 2.0'],
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

describe('hasForbiddenCharacter', () => {
  it('takes for what a name may not hold exactly Unicode Cc, the bidi embeddings, overrides and isolates, and the line separators', () => {
    const all = Array.from({ length: 0x3000 }, (_, code) => String.fromCodePoint(code));
    expect(all.filter((character) => hasForbiddenCharacter(character, 'name'))).toEqual([...CONTROL, ...REORDERING]);
  });

  it('lets a description keep tab, line feed and carriage return, and no other control character', () => {
    expect(CONTROL.filter((character) => !hasForbiddenCharacter(`a${character}b`, 'description'))).toEqual(LAYOUT);
  });

  it.each(byCode(REORDERING))('leaves %s to a description (names only refuse it)', (_code, character) => {
    expect(hasForbiddenCharacter(`a${character}b`, 'description')).toBe(false);
  });

  it.each(['\u00a0', '\u200b', '\ufeff', '\ufe0f', ...KEPT])('leaves %j to the other rules', (character) => {
    expect(hasForbiddenCharacter(character, 'name')).toBe(false);
  });
});

describe.each(NAMES)('a name field (%s): no control character, direction override or line separator, on HTTP and NATS alike', (_what, type, body, field) => {
  it.each(byCode([...CONTROL, ...REORDERING]))('refuses %s inside a name, naming the field', async (_code, character) => {
    expect(await problems(type, { ...body, [field]: `Ada${character}Lovelace` })).toEqual([`${field} ${REFUSED}`]);
  });

  it('refuses an ANSI colour escape, naming the field', async () => {
    expect(await problems(type, { ...body, [field]: '\u001b[31mAcme' })).toEqual([`${field} ${REFUSED}`]);
  });

  it('refuses a right-to-left override that shows another name, naming the field', async () => {
    expect(await problems(type, { ...body, [field]: 'Ada\u202Emoc.live' })).toEqual([`${field} ${REFUSED}`]);
  });

  it.each([
    ['control characters', '\u0000\u001b'],
    ['line and paragraph separators', '\u2028\u2029'],
    ['direction overrides and isolates', '\u202E\u2066\u2069'],
  ])('refuses a name of %s alone once, as showing nothing', async (_label, text) => {
    expect(await problems(type, { ...body, [field]: text })).toEqual([
      `${field} must show something: not only spaces, control characters or other invisible ones`,
    ]);
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

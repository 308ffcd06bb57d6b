import { plainToInstance } from 'class-transformer';
import { validate } from 'class-validator';
import { PersonBody } from './accounts.contract.js';
import { codePoints, MAX_NAME_LENGTH } from './text-length.js';
import { UpdateProfileBody, UpdateUserBody } from './users.contract.js';

describe('codePoints', () => {
  it.each([
    ['', 0],
    ['Ada', 3],
    ['😀', 1],
    ['❤\uFE0F', 2],
    ['\uD800', 1],
  ])('counts %j as %i', (text, count) => {
    expect(codePoints(text)).toBe(count);
  });
});

describe('person names are 1 to 100 code points, whatever class-validator would count', () => {
  const person = { firstName: 'Ada', lastName: 'Lovelace', email: 'ada@example.com', phone: '+447700900123' };
  const bodies = [
    ['a person added', PersonBody, person],
    ['a person edited by an admin', UpdateUserBody, {}],
    ['a person editing themselves', UpdateProfileBody, {}],
  ] as const;

  /** The problems with `field` once set to `name` in each body. */
  async function problems(field: 'firstName' | 'lastName', name: string): Promise<Array<Record<string, string> | undefined>> {
    return Promise.all(
      bodies.map(async ([, type, body]) => {
        const errors = await validate(plainToInstance(type as new () => object, { ...body, [field]: name }));
        return errors.find((error) => error.property === field)?.constraints;
      }),
    );
  }

  it.each([
    ['100 letters', 'x'.repeat(MAX_NAME_LENGTH)],
    ['100 emoji (200 UTF-16 code units)', '😀'.repeat(MAX_NAME_LENGTH)],
    ['100 letters folded into five each (㎮)', '㎮'.repeat(MAX_NAME_LENGTH)],
    ['a name with an emoji and its variation selector', 'Ada ❤\uFE0F'],
  ])('accept %s', async (_label, name) => {
    expect(await problems('firstName', name)).toEqual([undefined, undefined, undefined]);
    expect(await problems('lastName', name)).toEqual([undefined, undefined, undefined]);
  });

  it.each([
    ['101 letters', 'x'.repeat(MAX_NAME_LENGTH + 1)],
    // class-validator's Length counts each emoji and the selector after it as one character: 100, for 300 code units.
    ['100 emoji each with a variation selector', '😀\uFE0F'.repeat(MAX_NAME_LENGTH)],
    ['a letter and thousands of variation selectors', `a${'\uFE0F'.repeat(5000)}`],
    ['nothing', ''],
  ])('refuse %s, naming the field', async (_label, name) => {
    for (const field of ['firstName', 'lastName'] as const) {
      expect(await problems(field, name)).toEqual(Array(3).fill({ codePointLength: `${field} must be 1 to ${MAX_NAME_LENGTH} characters` }));
    }
  });
});

import { MAX_CURSOR_LENGTH, MAX_SORT_NAME_LENGTH } from '#libs/contracts/index.js';
import { decodeCursor, encodeCursor, isCursorPart, type CursorPart } from './cursor.js';

const ID = '6f1c2d3e-4b5a-4c6d-8e7f-a0b1c2d3e4f5';

describe('cursors', () => {
  it('round-trip the key after checking the sort they were made for', () => {
    const cursor = encodeCursor(['name', 'asc', 'lovelace ada', ID]);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(cursor, ['name', 'asc'], ['text', 'uuid'])).toEqual(['lovelace ada', ID]);
  });

  it('is null without a cursor', () => {
    expect(decodeCursor(undefined, ['name', 'asc'], ['text', 'uuid'])).toBeNull();
  });

  it.each([
    ['another sort', encodeCursor(['email', 'asc', 'x', ID])],
    ['another order', encodeCursor(['name', 'desc', 'x', ID])],
    ['too few parts', encodeCursor(['name', 'asc', 'x'])],
    ['too many parts', encodeCursor(['name', 'asc', 'x', ID, ID])],
    ['not JSON', Buffer.from('nope').toString('base64url')],
    ['not an array', Buffer.from(JSON.stringify({ name: 'asc' })).toString('base64url')],
    ['not strings', Buffer.from(JSON.stringify(['name', 'asc', 1, 2])).toString('base64url')],
    ['an id that is not a UUID', encodeCursor(['name', 'asc', 'x', 'id-1'])],
    ['a NUL in the text', encodeCursor(['name', 'asc', 'x\u0000', ID])],
  ])('refuses %s with VALIDATION_FAILED naming the cursor', (_label, cursor) => {
    expect(() => decodeCursor(cursor, ['name', 'asc'], ['text', 'uuid'])).toThrow(
      expect.objectContaining({ code: 'VALIDATION_FAILED', details: { field: 'cursor' } }),
    );
  });
});

describe('a cursor of the longest sort name the user table keeps (MAX_SORT_NAME_LENGTH code points)', () => {
  it.each([
    ['astral characters, two UTF-16 code units each', '😀'],
    ['control characters, six bytes each in JSON', '\u0001'],
    ['characters of three UTF-8 bytes', '李'],
  ])('of %s is taken back, within the wire limit', (_label, character) => {
    const sortName = character.repeat(MAX_SORT_NAME_LENGTH);
    const cursor = encodeCursor(['name', 'desc', sortName, ID]);
    expect(cursor.length).toBeLessThanOrEqual(MAX_CURSOR_LENGTH);
    expect(decodeCursor(cursor, ['name', 'desc'], ['text', 'uuid'])).toEqual([sortName, ID]);
  });
});

describe('the parts of a cursor', () => {
  it.each([
    ['uuid', ID],
    ['uuid', ID.toUpperCase()],
    ['time', '2026-01-01T10:00:00.123456Z'],
    ['time', '2024-02-29T23:59:59.000000Z'],
    ['time', '-infinity'],
    ['time', 'infinity'],
    ['xid', '0'],
    ['xid', '731'],
    ['xid', '18446744073709551615'],
    ['text', ''],
    ['text', 'zoé núñez'],
    ['text', 'x'.repeat(1000)],
    ['text', '😀'.repeat(500)],
  ] as const)('a %s part may be %j', (kind, value) => {
    expect(isCursorPart(kind, value)).toBe(true);
  });

  it.each([
    ['uuid', 'not-a-uuid'],
    ['uuid', `${ID}0`],
    ['uuid', ` ${ID}`],
    ['uuid', `{${ID}}`],
    ['uuid', ID.replace(/-/g, '')],
    ['xid', ''],
    ['xid', '-1'],
    ['xid', '01'],
    ['xid', '1.5'],
    ['xid', '1e3'],
    ['xid', ' 7'],
    ['xid', '18446744073709551616'],
    ['xid', '99999999999999999999'],
    ['xid', '123456789012345678901'],
    ['time', 'yesterday'],
    ['time', ''],
    ['time', '2026-01-01'],
    ['time', '2026-02-29T10:00:00.000000Z'],
    ['time', '2026-04-31T10:00:00.000000Z'],
    ['time', '2026-13-01T10:00:00.000000Z'],
    ['time', '2026-00-10T10:00:00.000000Z'],
    ['time', '0000-01-01T10:00:00.000000Z'],
    ['time', '2026-01-01T24:00:00.000000Z'],
    ['time', '2026-01-01T10:60:00.000000Z'],
    ['time', '2026-01-01T10:00:60.000000Z'],
    ['time', '2026-01-01T10:00:00.1234567Z'],
    ['time', '2026-01-01T10:00:00Z'],
    ['time', '2026-01-01T10:00:00.12345Z'],
    ['time', '2026-01-01 10:00:00.000000Z'],
    ['time', '2026-01-01T10:00:00.000000+00'],
    ['time', '2026-01-01T10:00:00.000000-03:30'],
    ['time', '2024-01-01T00:00:00+010101'],
    ['time', '2024-01-01T00:00:00+01:0101'],
    ['time', '2024-01-01T00:00:00+0101:01'],
    ['time', '2026-01-01T10:00:00'],
    ['time', '2026-01-01T10:00:00Z\u0000'],
    ['time', '2026-01-01T10:00:00Z; DROP TABLE users'],
    ['time', 'infinity '],
    ['text', 'x'.repeat(1001)],
    ['text', 'ada\u0000'],
    ['text', 42],
    ['uuid', null],
  ] as const)('a %s part may not be %j', (kind, value) => {
    expect(isCursorPart(kind as CursorPart, value)).toBe(false);
  });
});

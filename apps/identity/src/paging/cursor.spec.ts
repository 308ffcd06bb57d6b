import { decodeCursor, encodeCursor } from './cursor.js';

describe('cursors', () => {
  it('round-trip the key after checking the sort they were made for', () => {
    const cursor = encodeCursor(['name', 'asc', 'lovelace ada', 'id-1']);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(cursor, ['name', 'asc'], 2)).toEqual(['lovelace ada', 'id-1']);
  });

  it('is null without a cursor', () => {
    expect(decodeCursor(undefined, ['name', 'asc'], 2)).toBeNull();
  });

  it.each([
    ['another sort', encodeCursor(['email', 'asc', 'x', 'id'])],
    ['another order', encodeCursor(['name', 'desc', 'x', 'id'])],
    ['too few parts', encodeCursor(['name', 'asc', 'x'])],
    ['not JSON', Buffer.from('nope').toString('base64url')],
    ['not strings', Buffer.from(JSON.stringify(['name', 'asc', 1, 2])).toString('base64url')],
  ])('refuses %s with VALIDATION_FAILED', (_label, cursor) => {
    expect(() => decodeCursor(cursor, ['name', 'asc'], 2)).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
  });
});

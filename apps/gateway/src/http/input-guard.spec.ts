import { MAX_BODY_DEPTH, problemIn } from './input-guard.js';

describe('problemIn', () => {
  it('accepts ordinary input', () => {
    expect(problemIn({ name: 'Ada', tags: ['a', 'b'], nested: { n: 1, ok: true, none: null } })).toBeUndefined();
  });

  it('names the field holding a NUL character', () => {
    expect(problemIn({ owner: { email: 'a\u0000b@x.test' } })).toEqual({ field: 'owner.email', message: 'must not contain a NUL character' });
    expect(problemIn({ list: ['fine', 'bad\u0000'] })).toEqual({ field: 'list.1', message: 'must not contain a NUL character' });
  });

  it('refuses a NUL character in a field name', () => {
    expect(problemIn({ 'a\u0000': 1 })?.message).toMatch(/field name/);
  });

  it(`accepts ${MAX_BODY_DEPTH} levels and refuses more, without recursion`, () => {
    const nest = (levels: number) => {
      let value: unknown = 'leaf';
      for (let i = 0; i < levels; i += 1) value = [value];
      return value;
    };
    expect(problemIn(nest(MAX_BODY_DEPTH))).toBeUndefined();
    expect(problemIn(nest(MAX_BODY_DEPTH + 1))?.message).toMatch(/nests deeper than 32 levels/);
    expect(problemIn(nest(100_000))?.message).toMatch(/nests deeper/);
  });
});

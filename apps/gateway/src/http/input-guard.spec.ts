import type { IncomingMessage, ServerResponse } from 'node:http';
import { DomainError } from '#libs/errors/index.js';
import { assertUtf8Body, MAX_BODY_DEPTH, problemIn } from './input-guard.js';

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

  it('names the field holding a lone surrogate (not Unicode text), and accepts a pair', () => {
    const message = 'must be valid Unicode text (it holds a lone surrogate)';
    expect(problemIn({ name: 'a\ud800b' })).toEqual({ field: 'name', message });
    expect(problemIn({ grants: [{ actions: ['\udc00'] }] })).toEqual({ field: 'grants.0.actions.0', message });
    expect(problemIn({ name: 'a\ud800' })).toEqual({ field: 'name', message });
    expect(problemIn({ name: 'emoji \ud83d\ude00 fine' })).toBeUndefined();
    expect(problemIn({ ['\ud800']: 1 })?.message).toMatch(/field name/);
  });

  it('refuses a field named __proto__, which the validation would drop unseen', () => {
    const body = JSON.parse('{"owner":{"__proto__":{"isAdmin":true}}}') as unknown;
    expect(problemIn(body)).toEqual({ field: 'owner.__proto__', message: 'should not exist' });
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

describe('assertUtf8Body', () => {
  const verify =
    (bytes: number[], encoding = 'utf-8') =>
    () =>
      assertUtf8Body({} as IncomingMessage, {} as ServerResponse, Buffer.from(bytes), encoding);

  it('accepts UTF-8, and a body labelled with another Unicode charset', () => {
    expect(verify([...Buffer.from('{"name":"Zoë 😀"}')])).not.toThrow();
    expect(verify([0xff, 0xfe, 0x7b, 0x00], 'utf-16')).not.toThrow();
  });

  it('refuses bytes that are not UTF-8 with a 400, rather than reading them as U+FFFD', () => {
    expect(verify([0x7b, 0x22, 0xc3, 0x28, 0x22, 0x7d])).toThrow(DomainError);
    expect(verify([0x7b, 0x22, 0xc3, 0x28, 0x22, 0x7d])).toThrow('The request body is not valid UTF-8');
  });
});

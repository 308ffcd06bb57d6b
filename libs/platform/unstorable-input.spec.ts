import { DomainError } from '#libs/errors/index.js';
import {
  assertStorablePayload,
  hasLoneSurrogate,
  MAX_INPUT_DEPTH,
  mayHoldUnstorableInput,
  StorablePayloadPipe,
  unstorableInputError,
  unstorableInputProblem,
} from './unstorable-input.js';

describe('hasLoneSurrogate', () => {
  it.each([
    ['a high surrogate at the end', 'slug\uD83D', true],
    ['a high surrogate followed by another high one', '\uD83D\uD83Dx', true],
    ['a low surrogate at the start', '\uDE00slug', true],
    ['a low surrogate after a low one', '\uD83D\uDE00\uDE00', true],
    ['a pair (an emoji)', 'slug-\u{1F600}', false],
    ['plain text', 'Zoë', false],
    ['nothing', '', false],
  ])('%s', (_label, text, lone) => {
    expect(hasLoneSurrogate(text)).toBe(lone);
  });
});

describe('unstorableInputProblem', () => {
  it('accepts ordinary input', () => {
    expect(unstorableInputProblem({ name: 'Ada', tags: ['a', 'b'], nested: { n: 1, ok: true, none: null } })).toBeUndefined();
    expect(unstorableInputProblem('Zoë')).toBeUndefined();
    expect(unstorableInputProblem(42)).toBeUndefined();
  });

  it('names the field holding a NUL character', () => {
    expect(unstorableInputProblem({ owner: { email: 'a\u0000b@x.test' } })).toEqual({ field: 'owner.email', message: 'must not contain a NUL character' });
    expect(unstorableInputProblem({ list: ['fine', 'bad\u0000'] })).toEqual({ field: 'list.1', message: 'must not contain a NUL character' });
    expect(unstorableInputProblem('\u0000', 'payload')).toEqual({ field: 'payload', message: 'must not contain a NUL character' });
  });

  it('refuses a NUL character in a field name', () => {
    expect(unstorableInputProblem({ owner: { 'a\u0000': 1 } })).toEqual({ field: 'owner', message: expect.stringMatching(/field name/) as string });
    expect(unstorableInputProblem({ 'a\u0000': 1 }, 'payload')?.field).toBe('payload');
  });

  it('names the field holding a lone surrogate (not Unicode text), and accepts a pair', () => {
    const message = 'must be valid Unicode text (it holds a lone surrogate)';
    expect(unstorableInputProblem({ name: 'a\ud800b' })).toEqual({ field: 'name', message });
    expect(unstorableInputProblem({ grants: [{ actions: ['\udc00'] }] })).toEqual({ field: 'grants.0.actions.0', message });
    expect(unstorableInputProblem({ name: 'a\ud800' })).toEqual({ field: 'name', message });
    expect(unstorableInputProblem({ name: '\udc00\ud800' })).toEqual({ field: 'name', message });
    expect(unstorableInputProblem({ name: 'emoji \ud83d\ude00 fine' })).toBeUndefined();
    expect(unstorableInputProblem({ ['\ud800']: 1 })?.message).toMatch(/field name/);
  });

  it('refuses a field named __proto__, which the validation would drop unseen', () => {
    const body = JSON.parse('{"owner":{"__proto__":{"isAdmin":true}}}') as unknown;
    expect(unstorableInputProblem(body)).toEqual({ field: 'owner.__proto__', message: 'should not exist' });
    expect(unstorableInputProblem(JSON.parse('{"__proto__":1}'))).toEqual({ field: '__proto__', message: 'should not exist' });
  });

  it.each([
    'toString',
    'constructor',
    'hasOwnProperty',
    'valueOf',
    'isPrototypeOf',
    'propertyIsEnumerable',
    'toLocaleString',
    '__defineGetter__',
    '__lookupSetter__',
    'prototype',
  ])('refuses a field named %s, which class-transformer would drop without a word (the whitelist never sees it)', (name) => {
    expect(unstorableInputProblem({ name: 'x', [name]: 1 })).toEqual({ field: name, message: 'should not exist' });
    expect(unstorableInputProblem({ grants: [{ section: 's', [name]: null }] })).toEqual({ field: `grants.0.${name}`, message: 'should not exist' });
  });

  it('takes such a name as a value: only field names are refused', () => {
    expect(unstorableInputProblem({ actions: ['toString', 'constructor'], name: '__proto__' })).toBeUndefined();
  });

  it('names the first problem in the order of the fields', () => {
    expect(unstorableInputProblem({ a: { b: 'fine', c: 'x\u0000' }, d: '\ud800' })?.field).toBe('a.c');
  });

  it(`accepts ${MAX_INPUT_DEPTH} levels and refuses more, without exhausting the stack`, () => {
    const nest = (levels: number) => {
      let value: unknown = 'leaf';
      for (let i = 0; i < levels; i += 1) value = [value];
      return value;
    };
    expect(unstorableInputProblem(nest(MAX_INPUT_DEPTH))).toBeUndefined();
    expect(unstorableInputProblem(nest(MAX_INPUT_DEPTH + 1))?.message).toMatch(/nests deeper than 32 levels/);
    expect(unstorableInputProblem(nest(100_000))?.message).toMatch(/nests deeper/);
  });
});

describe('unstorableInputError', () => {
  it('never echoes a field name at length (L3): its path is cut to 64 characters, in the message and the details', () => {
    const longName = 'k'.repeat(90_000);
    const error = unstorableInputError(unstorableInputProblem({ [longName]: 'nul \u0000' })!);
    expect(error.message).toBe(`${'k'.repeat(63)}…: must not contain a NUL character`);
    expect(error.details).toEqual({ field: `${'k'.repeat(63)}…` });
  });
});

describe('mayHoldUnstorableInput', () => {
  it.each([
    ['a NUL', { section: 'a\u0000' }],
    ['a lone surrogate', { section: '\ud800' }],
    ['a lone surrogate in a field name', { ['\udc00']: 1 }],
    ['a field named __proto__', JSON.parse('{"__proto__":1}') as unknown],
    ['a field named __proto__, escaped', JSON.parse('{"\\u005f_proto__":1}') as unknown],
  ])('lets no JSON holding %s pass unwalked', (_label, value) => {
    const json = JSON.stringify(value);
    expect(unstorableInputProblem(JSON.parse(json))).toBeDefined();
    expect(mayHoldUnstorableInput(json)).toBe(true);
  });

  it('passes ordinary JSON, with text in any script and emoji, unwalked', () => {
    expect(mayHoldUnstorableInput(JSON.stringify({ section: 'logs', name: 'Zoë 😀 日本', id: '2f1c1e2a-9b4d-4c8e-a1f0-5d6e7b8c9a01' }))).toBe(false);
  });
});

describe('StorablePayloadPipe', () => {
  const pipe = new StorablePayloadPipe();
  const refusal = (value: unknown): DomainError => {
    try {
      pipe.transform(value, { type: 'body' });
    } catch (error) {
      return error as DomainError;
    }
    throw new Error('expected a refusal');
  };

  it('refuses a payload holding a NUL, a lone surrogate or __proto__ with 400 VALIDATION_FAILED naming the field', () => {
    expect(refusal({ body: { name: 'Acme\u0000' } }).toPayload()).toMatchObject({
      code: 'VALIDATION_FAILED',
      message: 'body.name: must not contain a NUL character',
      details: { field: 'body.name' },
    });
    expect(refusal({ body: { owner: { lastName: '\ud800' } } }).message).toBe('body.owner.lastName: must be valid Unicode text (it holds a lone surrogate)');
    expect(refusal(JSON.parse('{"actor":{"__proto__":{}}}')).message).toBe('actor.__proto__: should not exist');
  });

  it('passes any other payload on unchanged, and leaves other arguments alone', () => {
    const payload = { body: { name: 'Acme' } };
    expect(pipe.transform(payload, { type: 'body' })).toBe(payload);
    expect(pipe.transform('\u0000', { type: 'custom' })).toBe('\u0000');
  });

  it('names the whole payload when it is itself such text', () => {
    expect(() => assertStorablePayload('\u0000')).toThrow('payload: must not contain a NUL character');
  });
});

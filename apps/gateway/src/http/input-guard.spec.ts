import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Request, Response } from 'express';
import { DomainError } from '#libs/errors/index.js';
import { assertUtf8Body, refuseUnstorableInput } from './input-guard.js';

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

describe('refuseUnstorableInput', () => {
  const refusal = (body: unknown, url = '/v1/x') => {
    let passed: unknown = 'not called';
    refuseUnstorableInput({ body, url } as Request, {} as Response, (error?: unknown) => (passed = error));
    return passed as DomainError | undefined;
  };

  it('passes ordinary input on', () => {
    expect(refusal({ name: 'Ada' }, '/v1/x?limit=5')).toBeUndefined();
  });

  it('refuses, with the rules of libs/platform, a body field holding a NUL or a lone surrogate, or named __proto__, naming it', () => {
    expect(refusal({ owner: { email: 'a\u0000b@x.test' } })?.message).toBe('owner.email: must not contain a NUL character');
    expect(refusal({ name: 'a\ud800' })?.message).toBe('name: must be valid Unicode text (it holds a lone surrogate)');
    expect(refusal(JSON.parse('{"__proto__":{}}'))?.toPayload()).toEqual({
      code: 'VALIDATION_FAILED',
      message: '__proto__: should not exist',
      details: { field: '__proto__' },
    });
  });

  it('refuses a query value with an encoded NUL, and a query field named __proto__, naming the field', () => {
    expect(refusal({}, '/v1/x?limit=5&search=ab%00')?.message).toBe('search: must not contain a NUL character');
    expect(refusal({}, '/v1/x?__proto__=1')?.message).toBe('__proto__: should not exist');
  });

  it('refuses a query field named as another member of Object.prototype, however it is spelt, and a body field so named', () => {
    expect(refusal({}, '/v1/x?limit=5&constructor=1')?.message).toBe('constructor: should not exist');
    expect(refusal({}, '/v1/x?toString=x')?.message).toBe('toString: should not exist');
    expect(refusal({}, '/v1/x?constructo%72=1')?.message).toBe('constructor: should not exist');
    expect(refusal({}, '/v1/x?__prot%6F__=1')?.message).toBe('__proto__: should not exist');
    expect(refusal({ owner: { hasOwnProperty: 1 } })?.message).toBe('owner.hasOwnProperty: should not exist');
    // A value may say anything; a search for text with escapes is read and passes.
    expect(refusal({}, '/v1/x?search=constructor%20toString&limit=5')).toBeUndefined();
  });
});

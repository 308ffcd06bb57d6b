import {
  CreateAccountBody,
  CreateSubuserRequest,
  CreateUserRequest,
  LoginRequest,
  lowerCasesAlike,
  PasswordResetRequest,
  UpdateSubuserRequest,
} from '#libs/contracts/index.js';
import { createValidationPipe } from '#libs/platform/index.js';
import { emailKey, resetTargetKey, userSignInKeys } from './throttle-keys.js';

const ACCOUNT = '5f0c8a3e-1d1a-4c9e-9a52-1f7d2b0f6a10';
const SUBUSER = '5f0c8a3e-1d1a-4c9e-9a52-1f7d2b0f6a11';
const actor = { type: 'user', id: '5f0c8a3e-1d1a-4c9e-9a52-1f7d2b0f6a12', sessionId: '5f0c8a3e-1d1a-4c9e-9a52-1f7d2b0f6a13' };
const client = { ip: '10.0.0.1' };
const person = { firstName: 'Ada', lastName: 'Lovelace', phone: '+447700900123' };

/** Every payload of identity that carries an e-mail, with `email` where the e-mail goes, and the field's name in the answer. */
const PAYLOADS: Array<[string, new () => object, (email: string) => object, string]> = [
  ['a sign-up', CreateAccountBody, (email) => ({ name: 'Acme', slug: 'acme', owner: { ...person, email } }), 'owner.email'],
  ['a sign-in', LoginRequest, (email) => ({ client, body: { email, password: 'x' } }), 'body.email'],
  ['a reset request', PasswordResetRequest, (email) => ({ client, body: { email } }), 'body.email'],
  ['a new person', CreateUserRequest, (email) => ({ actor, accountId: ACCOUNT, client, body: { ...person, email, role: 'Admin' } }), 'body.email'],
  ['a new subuser', CreateSubuserRequest, (email) => ({ actor, accountId: ACCOUNT, client, body: { login: 'desk', email, roles: ['Admin'] } }), 'body.email'],
  ['a subuser edit', UpdateSubuserRequest, (email) => ({ actor, accountId: ACCOUNT, subuserId: SUBUSER, client, body: { email } }), 'body.email'],
];

const validate = (metatype: new () => object, payload: object) => createValidationPipe().transform(payload, { type: 'body', metatype });

describe('e-mail addresses JavaScript and PostgreSQL lower-case differently', () => {
  it.each([
    ['İ (U+0130), two characters lower-cased in JavaScript', 'İrene@example.test', false],
    ['İ in the domain', 'irene@İstanbul.test', false],
    ['Σ ending a word (final ς in JavaScript)', 'ΑΣ@example.test', false],
    ['Σ ending the address', 'irene@example.ΑΣ', false],
    ['Σ before a dot (not ending a word to JavaScript either)', 'irene@ΑΣ.test', true],
    ['Σ inside a word', 'ΑΣΑ@example.test', true],
    ['Σ alone', 'Σ@example.test', true],
    ['ASCII capitals', 'Irene.Adler@Example.TEST', true],
    ['accented capitals', 'ZOÉ.NÚÑEZ@example.test', true],
    ['a dotted i written in lower case', 'i\u0307rene@example.test', true],
    ['a final sigma written as such', 'ας@example.test', true],
  ])('%s: %s lower-cases alike: %s', (_label, email, alike) => {
    expect(lowerCasesAlike(email)).toBe(alike);
  });

  it.each(PAYLOADS)('are refused in %s (400 naming the field)', async (_label, metatype, payload, field) => {
    for (const email of ['İrene@example.test', 'ΑΣ@example.test']) {
      await expect(validate(metatype, payload(email))).rejects.toMatchObject({
        code: 'VALIDATION_FAILED',
        message: expect.stringMatching(new RegExp(`^${field.replace('.', '\\.')} holds a capital whose lower case is ambiguous`)),
      });
    }
  });

  it.each(PAYLOADS)('leave other addresses alone in %s', async (_label, metatype, payload) => {
    await expect(validate(metatype, payload('ZOÉ.Núñez@Example.test'))).resolves.toBeInstanceOf(metatype);
  });
});

describe('the e-mail key', () => {
  it('is what sign-in and reset counters are keyed by', () => {
    expect(emailKey('Irene.Adler@Example.TEST')).toBe('irene.adler@example.test');
    expect(userSignInKeys('Irene.Adler@Example.TEST', '10.0.0.1')[0].key).toBe(`signin:user:${emailKey('Irene.Adler@Example.TEST')}`);
    expect(resetTargetKey(emailKey('Irene.Adler@Example.TEST')).key).toBe(`reset:target:${emailKey('Irene.Adler@Example.TEST')}`);
  });
});

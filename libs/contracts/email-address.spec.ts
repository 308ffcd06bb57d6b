import { plainToInstance } from 'class-transformer';
import { validate } from 'class-validator';
import { PasswordResetBody } from './credentials.contract.js';
import { isMailableAddress } from './email-address.js';

describe('an address Portico can mail', () => {
  it.each(['ada@example.com', 'ada+tag@plus.test', 'pelé@utf8.test', 'ada@bücher.test', 'o.brien-smith_1@mail.example.co.uk'])('is %s', (address) => {
    expect(isMailableAddress(address)).toBe(true);
  });

  it.each([
    ['a quoted local part with a space', '"ada lovelace"@quoted.test'],
    ['a quoted local part', '"ada"@quoted.test'],
    ['an em space (U+2003) in the local part', 'ada\u2003x@space.test'],
    ['an ideographic space (U+3000)', 'ada\u3000x@space.test'],
    ['a narrow no-break space (U+202F)', 'ada\u202fx@space.test'],
    ['a byte order mark (U+FEFF)', 'ada\ufeffx@bom.test'],
    ['a direction override (U+202E)', 'ada\u202ex@bidi.test'],
    ['a control character', 'ada\u0007@bell.test'],
    ['a zero-width space (U+200B)', 'ada\u200b@example.com'],
    ['a word joiner in the domain (U+2060)', 'ada@exam\u2060ple.com'],
    ['a deprecated format control (U+206A)', 'ada\u206a@example.com'],
    ['a display name', 'Ada <ada@example.com>'],
    ['two addresses', 'ada@example.com,bob@example.com'],
    ['a domain without a dot', 'ada@localhost'],
    ['a lone surrogate', 'ada\ud800@example.com'],
    ['more than 254 characters', `${'a'.repeat(64)}@${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(63)}.test`],
  ])('is not one with %s', (_label, address) => {
    expect(isMailableAddress(address)).toBe(false);
  });

  it('is what every e-mail field takes, refusing others with a message naming the field', async () => {
    const errors = await validate(plainToInstance(PasswordResetBody, { email: '"ada lovelace"@quoted.test' }));
    expect(errors.flatMap((error) => Object.values(error.constraints ?? {}))).toEqual(['email must be an e-mail address']);
    expect(await validate(plainToInstance(PasswordResetBody, { email: 'pelé@utf8.test' }))).toEqual([]);
  });
});

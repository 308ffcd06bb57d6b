import { base32Decode, base32Encode, hotp, matchTotp, otpauthUri, totpCode, totpStep } from './totp.js';

/** The RFC 4226 / RFC 6238 test secret (SHA-1): ASCII "12345678901234567890". */
const RFC_SECRET = Buffer.from('12345678901234567890', 'ascii');

describe('TOTP (RFC 6238)', () => {
  it.each([
    [0, '755224'],
    [1, '287082'],
    [2, '359152'],
    [9, '520489'],
  ])('HOTP of the RFC 4226 secret at counter %i is %s', (counter, code) => {
    expect(hotp(RFC_SECRET, counter)).toBe(code);
  });

  it.each([
    [59, '94287082'],
    [1111111109, '07081804'],
    [1234567890, '89005924'],
    [2000000000, '69279037'],
    [20000000000, '65353130'],
  ])('8-digit code of the RFC 6238 secret at %i s is %s', (seconds, code) => {
    expect(hotp(RFC_SECRET, totpStep(new Date(seconds * 1000)), 8)).toBe(code);
  });

  it('base32 round-trips, ignoring case, spaces and padding, and refuses other characters', () => {
    const secret = Buffer.from('0123456789abcdefghij');
    const text = base32Encode(secret);
    expect(text).toMatch(/^[A-Z2-7]{32}$/);
    expect(base32Decode(text)).toEqual(secret);
    expect(base32Decode(`${text.toLowerCase().match(/.{4}/g)!.join(' ')}====`)).toEqual(secret);
    expect(base32Encode(Buffer.from('foobar'))).toBe('MZXW6YTBOI');
    expect(base32Decode('MZXW6YTBOI')).toEqual(Buffer.from('foobar'));
    expect(base32Decode('MZXW1')).toBeNull();
  });

  describe('matching a typed code', () => {
    const at = new Date(1_800_000_000_000);
    const step = totpStep(at);

    it('reads a code typed with spaces, as apps show it', () => {
      const code = totpCode(RFC_SECRET, at);
      expect(matchTotp(RFC_SECRET, ` ${code.slice(0, 3)} ${code.slice(3)} `, at, null)).toBe(step);
    });

    it('takes the code of now and of one step either side, and says which step it was', () => {
      expect(matchTotp(RFC_SECRET, totpCode(RFC_SECRET, at), at, null)).toBe(step);
      expect(matchTotp(RFC_SECRET, hotp(RFC_SECRET, step - 1), at, null)).toBe(step - 1);
      expect(matchTotp(RFC_SECRET, hotp(RFC_SECRET, step + 1), at, null)).toBe(step + 1);
    });

    it('refuses codes two steps away, wrong codes and anything that is not six digits', () => {
      expect(matchTotp(RFC_SECRET, hotp(RFC_SECRET, step - 2), at, null)).toBeNull();
      expect(matchTotp(RFC_SECRET, hotp(RFC_SECRET, step + 2), at, null)).toBeNull();
      const wrong = ((Number(totpCode(RFC_SECRET, at)) + 1) % 1_000_000).toString().padStart(6, '0');
      expect(matchTotp(RFC_SECRET, wrong, at, null)).toBeNull();
      expect(matchTotp(RFC_SECRET, `${totpCode(RFC_SECRET, at)}0`, at, null)).toBeNull();
      expect(matchTotp(RFC_SECRET, '12345', at, null)).toBeNull();
    });

    it('never takes a code of a step already used, nor of an earlier one', () => {
      expect(matchTotp(RFC_SECRET, totpCode(RFC_SECRET, at), at, step)).toBeNull();
      expect(matchTotp(RFC_SECRET, hotp(RFC_SECRET, step - 1), at, step)).toBeNull();
      expect(matchTotp(RFC_SECRET, hotp(RFC_SECRET, step + 1), at, step)).toBe(step + 1);
    });
  });

  it('writes the otpauth URI authenticator apps read, with issuer and label escaped', () => {
    const uri = new URL(otpauthUri('Acme Panel', 'ada@example.com', Buffer.from('foobar')));
    expect(uri.protocol).toBe('otpauth:');
    expect(uri.host).toBe('totp');
    expect(decodeURIComponent(uri.pathname)).toBe('/Acme Panel:ada@example.com');
    expect(Object.fromEntries(uri.searchParams)).toEqual({ secret: 'MZXW6YTBOI', issuer: 'Acme Panel', algorithm: 'SHA1', digits: '6', period: '30' });
    expect(otpauthUri('Acme Panel', 'a b', Buffer.from('x'))).not.toContain('+');
  });
});

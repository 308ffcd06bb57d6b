import { commonPasswordCount, isCommonPassword } from './common-passwords.js';
import { assertPasswordAcceptable, passwordProblem } from './password-policy.js';

const context = { email: 'ada.lovelace@example.com', login: 'support-desk', accountNames: ['Acme Voice'] };

describe('passwordProblem (P1-P3)', () => {
  it.each([
    ['shorter than the minimum', 'elevenchars', 12, 'at least 12'],
    ['shorter than a configured minimum of 16', 'fifteen chars!!', 16, 'at least 16'],
    ['longer than 128 characters', 'x'.repeat(129), 12, 'at most 128'],
    ['equal to the e-mail', 'ada.lovelace@example.com', 12, 'must not contain'],
    ['containing the e-mail local part', 'ada.lovelace-rocks-2026', 12, 'must not contain'],
    ['containing the login', 'my support-desk secret', 12, 'must not contain'],
    ['containing the account name, case ignored', 'my ACME VOICE password', 12, 'must not contain'],
    ['a common password', 'qwerty123456', 12, 'too common'],
    ['a common password in capitals', '1Q2W3E4R5T6Y', 12, 'too common'],
    ['a common word with digits and symbols added', 'password2024!!', 12, 'too common'],
    ['a common password at a configured minimum of 8', 'iloveyou', 8, 'too common'],
  ])('refuses a password %s', (_label, password, min, message) => {
    expect(passwordProblem(password, min, context)).toContain(message);
  });

  it.each([
    ['12 characters', 'abcdefghijk!'],
    ['a pass-phrase of lower-case words, no digits, no capitals (P2)', 'correct horse battery staple'],
    ['64 characters', 'q'.repeat(64)],
    ['128 characters', 'w'.repeat(128)],
    ['unicode', 'ça fait plaisir, été 🌞'],
  ])('accepts %s', (_label, password) => {
    expect(passwordProblem(password, 12, context)).toBeNull();
  });

  it('counts characters, not bytes', () => {
    expect(passwordProblem('ééééééééééé', 12)).toContain('at least 12');
    expect(passwordProblem('éééééééééééé', 12)).toBeNull();
  });

  it('answers with a neutral WEAK_PASSWORD error naming the field, not the rule broken by the list', () => {
    expect(() => assertPasswordAcceptable('qwerty123456', 12)).toThrow(expect.objectContaining({ code: 'WEAK_PASSWORD', details: { field: 'password' } }));
  });
});

describe('the common-password list', () => {
  it('holds tens of thousands of entries, shipped offline', () => {
    expect(commonPasswordCount()).toBeGreaterThan(40_000);
  });

  it.each(['password', 'PASSWORD', 'letmein', 'trustno1', 'Password123!'])('knows %s', (password) => {
    expect(isCommonPassword(password)).toBe(true);
  });

  it.each(['correct horse battery staple', 'zebra-cactus-lantern', 'plum orbit saxophone 42'])('does not hold %s', (password) => {
    expect(isCommonPassword(password)).toBe(false);
  });
});

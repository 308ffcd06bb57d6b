import { passwordProblem } from './password-policy.js';

describe('passwordProblem', () => {
  it.each([
    ['short', 'elevenchars', 12, 'at least 12'],
    ['contains the e-mail name', 'ada.lovelace-rocks-2026', 12, 'must not contain'],
    ['contains the account name', 'my acme voice password', 12, 'must not contain'],
    ['too long', 'x'.repeat(129), 12, 'at most 128'],
  ])('refuses a password that is %s', (_label, password, min, message) => {
    expect(passwordProblem(password, min, { email: 'ada.lovelace@example.com', accountName: 'Acme Voice' })).toContain(message);
  });

  it.each([
    ['a 12-character password', 'abcdefghijk!'],
    ['a pass-phrase of lower-case words', 'correct horse battery staple'],
    ['64 characters', 'q'.repeat(64)],
    ['128 characters', 'w'.repeat(128)],
  ])('accepts %s', (_label, password) => {
    expect(passwordProblem(password, 12, { email: 'ada@example.com' })).toBeNull();
  });

  it('counts characters, not bytes', () => {
    expect(passwordProblem('ééééééééééé', 12)).toContain('at least 12');
    expect(passwordProblem('éééééééééééé', 12)).toBeNull();
  });

  it('refuses what the common list holds', () => {
    expect(passwordProblem('password1234', 12, {}, (p) => p === 'password1234')).toContain('too common');
  });
});

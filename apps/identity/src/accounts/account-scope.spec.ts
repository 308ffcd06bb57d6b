import { subuserLoginUrl } from './account-scope.js';

describe("an account's subuser login link", () => {
  it.each([
    ['https://panel.example.com', 'https://panel.example.com/login/acme'],
    ['https://panel.example.com/', 'https://panel.example.com/login/acme'],
    ['https://example.com/panel', 'https://example.com/panel/login/acme'],
    ['https://example.com/panel/', 'https://example.com/panel/login/acme'],
  ])('under %s is %s (the base path kept, as in mailed links)', (base, link) => {
    expect(subuserLoginUrl(base, 'acme')).toBe(link);
  });

  it('encodes the slug', () => {
    expect(subuserLoginUrl('https://panel.example.com', 'a b')).toBe('https://panel.example.com/login/a%20b');
  });
});

import { escapeHtml, renderActivation } from './templates.js';

const settings = { productName: 'Portico', publicWebUrl: 'https://panel.example.com/app/' };
const data = {
  accountId: 'a',
  accountName: 'Acme <Voice>',
  userId: 'u',
  email: 'ada@example.com',
  firstName: 'Ada',
  token: 'tok/en+1',
  expiresAt: '2026-11-29T10:00:00.000Z',
  locale: 'en',
};

describe('the activation mail', () => {
  const mail = renderActivation(settings, data);

  it('links under PUBLIC_WEB_URL with the token encoded', () => {
    expect(mail.text).toContain('https://panel.example.com/activate?token=tok%2Fen%2B1');
  });

  it('names the account and the expiry', () => {
    expect(mail.subject).toBe('Portico: activate your access to Acme <Voice>');
    expect(mail.text).toContain('Sun, 29 Nov 2026 10:00:00 GMT');
  });

  it('escapes the account name in HTML', () => {
    expect(mail.html).toContain('Acme &lt;Voice&gt;');
    expect(mail.html).not.toContain('<Voice>');
  });

  it('matches its snapshot', () => {
    expect(mail).toMatchSnapshot();
  });
});

describe('escapeHtml', () => {
  it('escapes the five characters', () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  });
});

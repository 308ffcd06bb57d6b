import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MAIL_TEMPLATES } from '#libs/contracts/index.js';
import { TEMPLATE_VALUES } from './built-in-templates.js';
import { TemplateCatalog, TemplateConfigError } from './template-catalog.js';

const values = { productName: 'Portico', name: 'Ada', accountName: 'Acme', link: 'https://x/activate?token=t', expiresAt: 'tomorrow' };

function folder(files: Record<string, string>): string {
  const directory = mkdtempSync(join(tmpdir(), 'portico-templates-'));
  for (const [name, content] of Object.entries(files)) writeFileSync(join(directory, name), content);
  return directory;
}

function problemsOf(directory: string): string[] {
  try {
    TemplateCatalog.load(directory);
  } catch (error) {
    if (error instanceof TemplateConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('the built-in templates', () => {
  it('exist in English and French for every mail, and use only the values they are given', () => {
    const catalog = TemplateCatalog.builtIn();
    expect(catalog.locales().sort()).toEqual(['en', 'fr']);
    for (const template of MAIL_TEMPLATES) {
      const full = Object.fromEntries(TEMPLATE_VALUES[template].map((name) => [name, `<${name}>`]));
      for (const locale of ['en', 'fr']) {
        const mail = catalog.render(template, locale, full);
        expect(mail.locale).toBe(locale);
        expect(mail.subject.length).toBeGreaterThan(5);
      }
    }
  });
});

describe('operator overrides (MAIL_TEMPLATES_DIR)', () => {
  const made: string[] = [];
  const dir = (files: Record<string, string>) => {
    const directory = folder(files);
    made.push(directory);
    return directory;
  };
  afterAll(() => made.forEach((directory) => rmSync(directory, { recursive: true, force: true })));

  it('replace one part of a shipped template and keep the others', () => {
    const catalog = TemplateCatalog.load(dir({ 'activation.en.subject': 'Welcome to {{accountName}}, {{name}}' }));
    const mail = catalog.render('activation', 'en', values);
    expect(mail.subject).toBe('Welcome to Acme, Ada');
    expect(mail.text).toContain('Set your password');
    expect(catalog.render('activation', 'fr', values).subject).toContain('activez');
  });

  it('escape values in an overridden HTML part too', () => {
    const catalog = TemplateCatalog.load(dir({ 'activation.en.html': '<p>{{accountName}}</p>' }));
    expect(catalog.render('activation', 'en', { ...values, accountName: '<b>x</b>' }).html).toBe('<p>&lt;b&gt;x&lt;/b&gt;</p>');
  });

  it('add a language when all three parts are given; other mails fall back to English in it', () => {
    const catalog = TemplateCatalog.load(
      dir({ 'activation.de.subject': 'Willkommen {{name}}', 'activation.de.text': 'Hallo {{name}}: {{link}}', 'activation.de.html': '<p>{{link}}</p>' }),
    );
    expect(catalog.resolveLocale('activation', 'de-AT')).toBe('de');
    expect(catalog.resolveLocale('password-reset', 'de-AT')).toBe('en');
    expect(catalog.render('activation', 'de', values)).toMatchObject({ locale: 'de', subject: 'Willkommen Ada' });
    expect(catalog.render('password-reset', 'de', values).locale).toBe('en');
  });

  it('are refused at start, naming every problem at once', () => {
    const problems = problemsOf(
      dir({
        'activaton.en.subject': 'typo in the template name',
        'activation.en.body': 'unknown part',
        'README.md': 'not a template',
        'activation.en.text': 'Hello {{firstName}}',
        'password-reset.en.html': '{{#byAdmin}}unclosed',
        'activation.de.subject': 'a new language with one part only',
      }),
    );
    expect(problems).toHaveLength(6);
    expect(problems.join('\n')).toMatch(/activaton\.en\.subject/);
    expect(problems.join('\n')).toMatch(/\{\{firstName\}\}/);
    expect(problems.join('\n')).toMatch(/never closed/);
    expect(problems.join('\n')).toMatch(/activation\.de: .*missing text, html/);
  });

  it('are refused when the folder cannot be read', () => {
    expect(problemsOf('/nonexistent/portico-templates')[0]).toMatch(/MAIL_TEMPLATES_DIR/);
  });
});

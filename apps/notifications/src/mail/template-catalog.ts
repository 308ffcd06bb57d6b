import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { MAIL_TEMPLATES, type MailTemplate } from '#libs/contracts/index.js';
import { BUILT_IN_TEMPLATES, DEFAULT_LOCALE, TEMPLATE_PARTS, TEMPLATE_VALUES, type TemplatePart, type TemplateSource } from './built-in-templates.js';
import { oneLine } from './control-characters.js';
import { escapeHtml, namesUsed, parseTemplate, renderNodes, TemplateError, type TemplateNode, type TemplateValues } from './template-engine.js';

/** A mail's three parts, rendered. */
export interface RenderedParts {
  subject: string;
  text: string;
  html: string;
}

/** Template overrides that cannot be used; the service refuses to start with every problem listed. */
export class TemplateConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid mail templates:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'TemplateConfigError';
  }
}

type Parsed = Record<TemplatePart, TemplateNode[]>;
type Sources = Map<string, Map<MailTemplate, TemplateSource>>;

const FILE_NAME = /^([a-z0-9-]+)\.([A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})?)\.([a-z]+)$/;

/**
 * Every template in every locale, parsed once: the built-in English and French texts, with the
 * operator's overrides (MAIL_TEMPLATES_DIR) replacing parts of them or adding locales.
 */
export class TemplateCatalog {
  private readonly parsed = new Map<string, Map<MailTemplate, Parsed>>();

  private constructor(sources: Sources, problems: string[] = []) {
    for (const [locale, templates] of sources) {
      const byTemplate = new Map<MailTemplate, Parsed>();
      for (const [template, source] of templates) {
        const parts = {} as Parsed;
        for (const part of TEMPLATE_PARTS) {
          try {
            parts[part] = parseChecked(template, source[part]);
          } catch (error) {
            problems.push(`${template}.${locale}.${part}: ${(error as Error).message}`);
          }
        }
        byTemplate.set(template, parts);
      }
      this.parsed.set(locale, byTemplate);
    }
    if (problems.length > 0) throw new TemplateConfigError(problems);
  }

  /** The built-in templates only. */
  static builtIn(): TemplateCatalog {
    return new TemplateCatalog(builtInSources());
  }

  /** The built-in templates with the overrides of `directory` (null: none). Throws a {@link TemplateConfigError}. */
  static load(directory: string | null): TemplateCatalog {
    const sources = builtInSources();
    return new TemplateCatalog(sources, directory ? applyOverrides(sources, directory) : []);
  }

  /** The locales that have at least one template. */
  locales(): string[] {
    return [...this.parsed.keys()];
  }

  /**
   * The locale a template is written in for a person: their locale if it has this template, else
   * their language's (`fr` for `fr-CA`), else English. Per template, since overrides may add a
   * locale or a language for some templates only.
   */
  resolveLocale(template: MailTemplate, requested: unknown): string {
    const wanted = typeof requested === 'string' ? requested.trim().toLowerCase().replace('_', '-') : '';
    const language = wanted.split('-')[0];
    return [wanted, language].find((locale) => this.parsed.get(locale)?.has(template)) ?? DEFAULT_LOCALE;
  }

  /**
   * Renders one template in `locale` (English where that locale lacks the template). Every value
   * is a single line (names, links, dates): line breaks and control characters in them become a
   * space, so a name cannot start a new line in the text part, nor the subject.
   */
  render(template: MailTemplate, locale: string, values: TemplateValues): RenderedParts & { locale: string } {
    const used = this.parsed.get(locale)?.has(template) ? locale : DEFAULT_LOCALE;
    const parts = this.parsed.get(used)!.get(template)!;
    const lines = singleLines(values);
    const plain = (value: string) => value;
    return {
      locale: used,
      subject: oneLine(renderNodes(parts.subject, lines, plain)),
      text: renderNodes(parts.text, lines, plain),
      html: renderNodes(parts.html, lines, escapeHtml),
    };
  }
}

function singleLines(values: TemplateValues): TemplateValues {
  return Object.fromEntries(Object.entries(values).map(([name, value]) => [name, typeof value === 'string' ? oneLine(value) : value]));
}

function builtInSources(): Sources {
  const sources: Sources = new Map();
  for (const [locale, templates] of Object.entries(BUILT_IN_TEMPLATES)) {
    sources.set(locale, new Map(MAIL_TEMPLATES.map((template) => [template, { ...templates[template] }])));
  }
  return sources;
}

function parseChecked(template: MailTemplate, source: string): TemplateNode[] {
  const nodes = parseTemplate(source);
  const allowed = TEMPLATE_VALUES[template];
  const unknown = [...namesUsed(nodes)].filter((name) => !allowed.includes(name));
  if (unknown.length > 0) throw new TemplateError(`unknown value ${unknown.map((n) => `{{${n}}}`).join(', ')} (this template has ${allowed.join(', ')})`);
  return nodes;
}

/** Reads `<template>.<locale>.<part>` files into `sources`; a new locale must give all three parts of each template it has. Returns the problems. */
function applyOverrides(sources: Sources, directory: string): string[] {
  const problems: string[] = [];
  let names: string[];
  try {
    names = readdirSync(directory).filter((name) => !name.startsWith('.') && statSync(join(directory, name)).isFile());
  } catch (error) {
    return [`MAIL_TEMPLATES_DIR ${directory}: ${(error as Error).message}`];
  }
  const added = new Map<string, Map<MailTemplate, Partial<TemplateSource>>>();
  for (const name of names) {
    const match = FILE_NAME.exec(name);
    const [, template, rawLocale, part] = match ?? [];
    if (!match || !MAIL_TEMPLATES.includes(template as MailTemplate) || !TEMPLATE_PARTS.includes(part as TemplatePart)) {
      problems.push(`${name}: not <template>.<locale>.<part> with template one of ${MAIL_TEMPLATES.join(', ')} and part one of ${TEMPLATE_PARTS.join(', ')}`);
      continue;
    }
    const locale = rawLocale.toLowerCase().replace('_', '-');
    const byTemplate = added.get(locale) ?? new Map<MailTemplate, Partial<TemplateSource>>();
    added.set(locale, byTemplate);
    const parts = byTemplate.get(template as MailTemplate) ?? {};
    parts[part as TemplatePart] = readFileSync(join(directory, name), 'utf8');
    byTemplate.set(template as MailTemplate, parts);
  }
  for (const [locale, byTemplate] of added) {
    const existing = sources.get(locale);
    const target = existing ?? new Map<MailTemplate, TemplateSource>();
    for (const [template, parts] of byTemplate) {
      const base = existing?.get(template);
      const missing = TEMPLATE_PARTS.filter((part) => parts[part] === undefined && !base);
      if (missing.length > 0) {
        problems.push(`${template}.${locale}: a new locale needs all three parts; missing ${missing.join(', ')}`);
        continue;
      }
      target.set(template, { ...base, ...parts } as TemplateSource);
    }
    if (target.size > 0) sources.set(locale, target);
  }
  return problems;
}

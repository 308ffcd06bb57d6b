/**
 * A deliberately small template language (a subset of mustache), so that operators' overrides
 * cannot run code or emit raw HTML:
 * - `{{name}}` inserts a value (HTML-escaped in HTML templates);
 * - `{{#name}}...{{/name}}` keeps its content when the value is set (non-empty or true);
 * - `{{^name}}...{{/name}}` keeps its content when it is not.
 * There is no triple-brace raw form: every value in HTML is escaped.
 */

/** A value a template can use. */
export type TemplateValue = string | boolean | undefined;
/** Values by name. */
export type TemplateValues = Record<string, TemplateValue>;

/** A parsed template. */
export type TemplateNode =
  { kind: 'text'; text: string } | { kind: 'value'; name: string } | { kind: 'section'; name: string; inverted: boolean; body: TemplateNode[] };

/** A template that cannot be parsed, or that uses a name it is not given. */
export class TemplateError extends Error {
  override name = 'TemplateError';
}

const TAG = /\{\{\s*([#^/]?)\s*([A-Za-z][A-Za-z0-9]*)\s*\}\}/y;

/** Parses `source`; throws a {@link TemplateError} on an unknown tag or an unbalanced section. */
export function parseTemplate(source: string): TemplateNode[] {
  const root: TemplateNode[] = [];
  const open: Array<{ name: string; body: TemplateNode[] }> = [{ name: '', body: root }];
  let position = 0;
  while (position < source.length) {
    const start = source.indexOf('{{', position);
    const top = open[open.length - 1];
    if (start < 0) {
      top.body.push({ kind: 'text', text: source.slice(position) });
      break;
    }
    if (start > position) top.body.push({ kind: 'text', text: source.slice(position, start) });
    TAG.lastIndex = start;
    const match = TAG.exec(source);
    if (!match) throw new TemplateError(`Unreadable tag at ${lineOf(source, start)}: ${source.slice(start, start + 30)}`);
    const [whole, sigil, name] = match;
    position = start + whole.length;
    if (sigil === '') top.body.push({ kind: 'value', name });
    else if (sigil === '/') {
      if (top.name !== name || open.length === 1) throw new TemplateError(`{{/${name}}} at ${lineOf(source, start)} closes nothing open`);
      open.pop();
    } else {
      const section: TemplateNode = { kind: 'section', name, inverted: sigil === '^', body: [] };
      top.body.push(section);
      open.push({ name, body: section.body });
    }
  }
  if (open.length > 1) throw new TemplateError(`{{#${open[open.length - 1].name}}} is never closed`);
  return root;
}

/** Every name a template uses. */
export function namesUsed(nodes: TemplateNode[], into = new Set<string>()): Set<string> {
  for (const node of nodes) {
    if (node.kind === 'value') into.add(node.name);
    if (node.kind === 'section') {
      into.add(node.name);
      namesUsed(node.body, into);
    }
  }
  return into;
}

/** Renders parsed nodes; `escape` is applied to every inserted value. */
export function renderNodes(nodes: TemplateNode[], values: TemplateValues, escape: (value: string) => string): string {
  let out = '';
  for (const node of nodes) {
    if (node.kind === 'text') out += node.text;
    else if (node.kind === 'value') out += escape(stringOf(values[node.name]));
    else if (isSet(values[node.name]) !== node.inverted) out += renderNodes(node.body, values, escape);
  }
  return out;
}

/** Escapes text for HTML content and quoted attributes. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (char) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[char] ?? char);
}

function isSet(value: TemplateValue): boolean {
  return value === true || (typeof value === 'string' && value.length > 0);
}

function stringOf(value: TemplateValue): string {
  return typeof value === 'string' ? value : '';
}

function lineOf(source: string, index: number): string {
  return `line ${source.slice(0, index).split('\n').length}`;
}

import { escapeHtml, namesUsed, parseTemplate, renderNodes, TemplateError } from './template-engine.js';

const plain = (value: string) => value;

describe('the template language', () => {
  it.each([
    ['a value', 'Hello {{name}}!', { name: 'Ada' }, 'Hello Ada!'],
    ['spaces inside the braces', 'Hello {{ name }}', { name: 'Ada' }, 'Hello Ada'],
    ['a missing value as nothing', 'Hello {{name}}.', {}, 'Hello .'],
    ['a section when set', '{{#byAdmin}}admin{{/byAdmin}}', { byAdmin: true }, 'admin'],
    ['a section when unset', '{{#byAdmin}}admin{{/byAdmin}}', { byAdmin: false }, ''],
    ['a section on a non-empty text', '{{#link}}go {{link}}{{/link}}', { link: 'x' }, 'go x'],
    ['a section on an empty text', '{{#link}}go {{link}}{{/link}}', { link: '' }, ''],
    ['an inverted section', '{{^link}}none{{/link}}', { link: '' }, 'none'],
    ['nested sections', '{{#a}}A{{#b}}B{{/b}}{{/a}}', { a: true, b: true }, 'AB'],
    ['single braces as text', 'a { b } c', {}, 'a { b } c'],
  ])('renders %s', (_label, source, values, expected) => {
    expect(renderNodes(parseTemplate(source), values, plain)).toBe(expected);
  });

  it.each([
    ['an unknown tag', 'Hello {{name!}}'],
    ['a raw (triple brace) value', 'Hello {{{name}}}'],
    ['an unclosed section', '{{#a}}text'],
    ['a close without open', 'text{{/a}}'],
    ['crossed sections', '{{#a}}{{#b}}{{/a}}{{/b}}'],
    ['an unclosed tag', 'Hello {{name'],
  ])('refuses %s', (_label, source) => {
    expect(() => parseTemplate(source)).toThrow(TemplateError);
  });

  it('lists the names a template uses', () => {
    expect([...namesUsed(parseTemplate('{{a}} {{#b}}{{c}}{{/b}} {{^d}}{{/d}}'))].sort()).toEqual(['a', 'b', 'c', 'd']);
  });

  it('escapes every inserted value with the given function', () => {
    const nodes = parseTemplate('<p title="{{x}}">{{x}}</p>');
    expect(renderNodes(nodes, { x: `<script>"'&` }, escapeHtml)).toBe('<p title="&lt;script&gt;&quot;&#39;&amp;">&lt;script&gt;&quot;&#39;&amp;</p>');
  });
});

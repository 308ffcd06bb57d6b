/**
 * Control characters (NUL, tab, line breaks, escapes: Unicode's Cc) and the Unicode line and
 * paragraph separators: what must never reach a mail as it is. The one definition of the class;
 * what a mail depends on (address, token, slug, date) is refused if it has one
 * ({@link hasControlCharacters}), and names shown in a mail are put on one line ({@link oneLine}).
 */
export const CONTROL_CHARACTER = /[\p{Cc}\u2028\u2029]/u;

/** A run of control characters with the white space around it. */
const CONTROL_RUN = new RegExp(String.raw`\s*${CONTROL_CHARACTER.source}+\s*`, 'gu');

/** Whether `value` has a control character (or a line or paragraph separator) anywhere. */
export function hasControlCharacters(value: string): boolean {
  return CONTROL_CHARACTER.test(value);
}

/** Line breaks and control characters (with the spaces around them) become one space: "Ada\r\nLovelace" -> "Ada Lovelace". */
export function oneLine(value: string): string {
  return value.replace(CONTROL_RUN, ' ').trim();
}

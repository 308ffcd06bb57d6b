/**
 * Control characters (NUL, tab, line breaks, escapes: Unicode's Cc) and the Unicode line and
 * paragraph separators: what must never reach a mail as it is. The one definition of the class;
 * what a mail depends on (address, token, slug, date) is refused if it has one
 * ({@link hasControlCharacters}), and names shown in a mail are put on one line ({@link oneLine}).
 */
export const CONTROL_CHARACTER = /[\p{Cc}\u2028\u2029]/u;

/**
 * Invisible format characters (of Unicode's Cf) that can make a name read as something else: the
 * bidirectional embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069; "Ada\u202Emoc.evil"
 * shows as "Adalive.com"), the deprecated format controls (U+206A-U+206F), the zero-width space, the
 * invisible operators and word joiner (U+2060-U+2064), the byte order mark and the interlinear
 * annotation marks. Not the marks RTL text and emoji need: LRM, RLM, ALM, ZWJ, ZWNJ, tags.
 */
const UNSAFE_FORMAT_CHARACTERS = /[\u200B\u202A-\u202E\u2060-\u2064\u2066-\u206F\uFEFF\uFFF9-\uFFFB]/gu;

/** A run of control characters with the white space around it. */
const CONTROL_RUN = new RegExp(String.raw`\s*${CONTROL_CHARACTER.source}+\s*`, 'gu');

/** Whether `value` has a control character (or a line or paragraph separator) anywhere. */
export function hasControlCharacters(value: string): boolean {
  return CONTROL_CHARACTER.test(value);
}

/**
 * Line breaks and control characters (with the spaces around them) become one space: "Ada\r\nLovelace"
 * -> "Ada Lovelace"; the {@link UNSAFE_FORMAT_CHARACTERS} go.
 */
export function oneLine(value: string): string {
  return value.replace(UNSAFE_FORMAT_CHARACTERS, '').replace(CONTROL_RUN, ' ').trim();
}

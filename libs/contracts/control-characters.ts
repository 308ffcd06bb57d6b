import { ValidateBy, type ValidationOptions } from 'class-validator';
import { hasVisibleText } from './visible-text.js';

/**
 * What a name may not hold: Unicode's control characters (Cc: U+0000 to U+001F, U+007F, U+0080 to
 * U+009F); the bidirectional embeddings and overrides (U+202A to U+202E) and isolates (U+2066 to
 * U+2069), which reorder the text after them wherever it is shown ("Ada\u202Emoc.live" reads
 * "Adaevil.com"); and the line and paragraph separators (U+2028, U+2029), which break a log line or
 * a mail's line. The marks U+200E and U+200F (right-to-left text needs them), the zero-width joiner
 * U+200D (emoji sequences) and non-joiner U+200C (Persian) stay allowed.
 */
const NAME_FORBIDDEN = /[\p{Cc}\u202A-\u202E\u2066-\u2069\u2028\u2029]/u;

/** The control characters a description may not hold: all but tab, line feed and carriage return, which lay out its text. */
const CONTROL_BUT_LAYOUT = /(?![\t\n\r])\p{Cc}/u;

/**
 * What a text field is, for the invisible characters it may not keep: no control character,
 * direction override or line separator in a name; no control character but tab and line breaks in
 * a description.
 */
export type ControlCharacterRule = 'name' | 'description';

/** Whether `text` holds an invisible character its field may not keep ({@link ControlCharacterRule}). */
export function hasForbiddenCharacter(text: string, rule: ControlCharacterRule): boolean {
  return (rule === 'name' ? NAME_FORBIDDEN : CONTROL_BUT_LAYOUT).test(text);
}

const MESSAGES: Record<ControlCharacterRule, string> = {
  name: 'must not hold control characters, direction overrides or line separators',
  description: 'must not hold control characters other than tab, line feed and carriage return',
};

/**
 * Refuses, naming the field, an invisible character the field may not keep: in a name, a control
 * character (Unicode's Cc), a bidirectional embedding, override or isolate, or a line or paragraph
 * separator; in a description, a control character other than tab, line feed and carriage return.
 * Invisible in the panel, they would still reach a log line, a terminal (`\u001b[31m`), a mail or
 * an export as they are, and a direction override shows a name other than the one stored. A name
 * with nothing visible at all is {@link HasVisibleText}'s to refuse: one problem, not two.
 */
export function HasNoControlCharacters(rule: ControlCharacterRule, options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'hasNoControlCharacters',
      constraints: [rule],
      validator: {
        validate: (value: unknown) => typeof value !== 'string' || (rule === 'name' && !hasVisibleText(value)) || !hasForbiddenCharacter(value, rule),
        defaultMessage: (args) => `${args?.property ?? rule} ${MESSAGES[rule]}`,
      },
    },
    options,
  );
}

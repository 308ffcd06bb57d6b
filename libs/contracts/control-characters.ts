import { ValidateBy, type ValidationOptions } from 'class-validator';
import { hasVisibleText } from './visible-text.js';

/** Unicode's control characters (Cc): U+0000 to U+001F (C0, NUL and escape among them), U+007F (DEL), U+0080 to U+009F (C1). */
const CONTROL = /\p{Cc}/u;

/** The control characters a description may not hold: all but tab, line feed and carriage return, which lay out its text. */
const CONTROL_BUT_LAYOUT = /(?![\t\n\r])\p{Cc}/u;

/** What a text field is, for the control characters it may keep: none in a name, tab and line breaks in a description. */
export type ControlCharacterRule = 'name' | 'description';

/** Whether `text` holds a control character its field may not keep ({@link ControlCharacterRule}). */
export function hasForbiddenControlCharacter(text: string, rule: ControlCharacterRule): boolean {
  return (rule === 'name' ? CONTROL : CONTROL_BUT_LAYOUT).test(text);
}

const MESSAGES: Record<ControlCharacterRule, string> = {
  name: 'must not hold control characters',
  description: 'must not hold control characters other than tab, line feed and carriage return',
};

/**
 * Refuses, naming the field, a control character (Unicode's Cc) the field may not keep: any in a
 * name, any but tab, line feed and carriage return in a description. Invisible in the panel, they
 * would still reach a log line, a terminal (`\u001b[31m`) or an export as they are. A name with
 * nothing visible at all is {@link HasVisibleText}'s to refuse: one problem, not two.
 */
export function HasNoControlCharacters(rule: ControlCharacterRule, options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'hasNoControlCharacters',
      constraints: [rule],
      validator: {
        validate: (value: unknown) => typeof value !== 'string' || (rule === 'name' && !hasVisibleText(value)) || !hasForbiddenControlCharacter(value, rule),
        defaultMessage: (args) => `${args?.property ?? rule} ${MESSAGES[rule]}`,
      },
    },
    options,
  );
}

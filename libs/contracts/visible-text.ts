import { ValidateBy, type ValidationOptions } from 'class-validator';

/** White space (the line and paragraph separators included) and control characters (Unicode's Cc): what shows nothing. */
const INVISIBLE = /[\s\p{Cc}]/gu;

/** Whether `text` shows anything once its white space and control characters are left out. */
export function hasVisibleText(text: string): boolean {
  return text.replace(INVISIBLE, '') !== '';
}

/**
 * Refuses, naming the field, a name made only of white space or control characters: it would show
 * as nothing in the panel, and a mail that must name it (an invitation names the account and the
 * person) could not be written. Every name field carries it.
 */
export function HasVisibleText(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'hasVisibleText',
      validator: {
        // '' is the length rule's to refuse: one problem, not two.
        validate: (value: unknown) => typeof value !== 'string' || value === '' || hasVisibleText(value),
        defaultMessage: (args) => `${args?.property ?? 'name'} must show something: not only spaces or control characters`,
      },
    },
    options,
  );
}

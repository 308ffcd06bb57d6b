import { ValidateBy, type ValidationOptions } from 'class-validator';

/**
 * What shows nothing: white space (the line and paragraph separators included), control characters
 * (Unicode's Cc) and the characters Unicode says to draw as nothing (Default_Ignorable_Code_Point:
 * zero-width spaces and joiners, direction marks and overrides, soft hyphens, variation selectors,
 * the Hangul fillers U+3164 and U+115F that blank names are made of).
 */
const INVISIBLE = /[\s\p{Cc}\p{Default_Ignorable_Code_Point}]/gu;

/** Whether `text` shows anything once what shows nothing ({@link INVISIBLE}) is left out. */
export function hasVisibleText(text: string): boolean {
  return text.replace(INVISIBLE, '') !== '';
}

/**
 * Refuses, naming the field, a name made only of white space, control characters or other characters
 * drawn as nothing (zero-width, fillers: {@link INVISIBLE}): it would show
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
        defaultMessage: (args) => `${args?.property ?? 'name'} must show something: not only spaces, control characters or other invisible ones`,
      },
    },
    options,
  );
}

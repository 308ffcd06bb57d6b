import { dictionary } from '@zxcvbn-ts/language-common';

let common: ReadonlySet<string> | undefined;

/** How many passwords the offline list holds (for docs and tests). */
export function commonPasswordCount(): number {
  return commonList().size;
}

/**
 * Whether `password` is on the offline list of common passwords (zxcvbn-ts, ~49k entries), case
 * ignored, also once trailing digits and symbols are taken off ("Password2024!" is "password").
 */
export function isCommonPassword(password: string): boolean {
  const list = commonList();
  const lower = password.toLowerCase();
  if (list.has(lower)) return true;
  const stem = lower.replace(/[\d\p{P}\p{S}\s]+$/u, '');
  return stem !== lower && stem.length >= 4 && list.has(stem);
}

function commonList(): ReadonlySet<string> {
  common ??= new Set(dictionary['passwords-common'].map((entry) => entry.toLowerCase()));
  return common;
}

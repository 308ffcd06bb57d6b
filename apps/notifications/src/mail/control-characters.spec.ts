import { CONTROL_CHARACTER, hasControlCharacters, oneLine } from './control-characters.js';

describe('control characters', () => {
  it.each(['\u0000', '\t', '\r', '\n', '\u001b', '\u007f', '\u0085', '\u2028', '\u2029'])('finds %j anywhere in a value', (character) => {
    expect(hasControlCharacters(`ada${character}lovelace`)).toBe(true);
    expect(CONTROL_CHARACTER.test(character)).toBe(true);
  });

  it.each(['ada@example.com', 'Ada Lovelace', 'Élodie Ñúñez', '2026-11-29T10:00:00.000Z', 'a\u00a0b'])('finds none in %j', (value) => {
    expect(hasControlCharacters(value)).toBe(false);
  });

  it.each([
    ['Ada\r\nLovelace', 'Ada Lovelace'],
    ['Ada \u0000\u001b[31m Lovelace', 'Ada [31m Lovelace'],
    ['Acme\u2028Corp\u2029', 'Acme Corp'],
    ['\r\n', ''],
    ['Ada  Lovelace', 'Ada  Lovelace'],
    // The invisible format characters that can disguise a name go.
    ['Ada\u202Emoc.live\u202C', 'Adamoc.live'],
    ['\u2067Acme\u2069 \u202Bltd\u202A\u202D\u2066\u2068', 'Acme ltd'],
    ['A\u200Bd\u2060a\uFEFF', 'Ada'],
    ['\u202E', ''],
    // Not the format characters scripts and emoji need: ZWJ (a family), ZWNJ (Persian), RLM, tags (a flag).
    ['👩\u200D👩\u200D👧 می\u200Cخواهم שלום\u200F', '👩\u200D👩\u200D👧 می\u200Cخواهم שלום\u200F'],
    ['🏴\u{E0067}\u{E0062}\u{E0065}\u{E006E}\u{E0067}\u{E007F}', '🏴\u{E0067}\u{E0062}\u{E0065}\u{E006E}\u{E0067}\u{E007F}'],
  ])('puts %j on one line: %j', (value, expected) => {
    expect(oneLine(value)).toBe(expected);
  });

  it('finds the same characters on every call (no state kept between calls)', () => {
    expect([1, 2, 3].map(() => hasControlCharacters('a\nb'))).toEqual([true, true, true]);
    expect([1, 2, 3].map(() => oneLine('a\nb'))).toEqual(['a b', 'a b', 'a b']);
  });
});

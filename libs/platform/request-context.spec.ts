import { cleanUserAgent, MAX_USER_AGENT_LENGTH } from './request-context.js';

describe('cleanUserAgent', () => {
  it.each([
    ['Mozilla/5.0 (X11; Linux x86_64)', 'Mozilla/5.0 (X11; Linux x86_64)'],
    ['  curl/8.5.0\t', 'curl/8.5.0'],
    ['evil\r\nX-Injected: 1', 'evil X-Injected: 1'],
    ['a\u0000b\u007fc\u009bd', 'a b c d'],
    ['safe\u202Eexe.txt\u200B', 'safe exe.txt'],
    ['a  \t b', 'a b'],
    ['half \uD83D of a pair', 'half of a pair'],
    ['\u0007\u0008 ', undefined],
    ['', undefined],
    [undefined, undefined],
  ])('makes %j %j', (raw, cleaned) => {
    expect(cleanUserAgent(raw)).toBe(cleaned);
  });

  it(`cuts what is longer than ${MAX_USER_AGENT_LENGTH} characters, between characters (never inside one of two UTF-16 units)`, () => {
    expect(cleanUserAgent('x'.repeat(MAX_USER_AGENT_LENGTH * 2000))).toBe('x'.repeat(MAX_USER_AGENT_LENGTH));
    expect(cleanUserAgent(`${'x'.repeat(MAX_USER_AGENT_LENGTH - 1)}😀😀`)).toBe(`${'x'.repeat(MAX_USER_AGENT_LENGTH - 1)}😀`);
    // Bounded first at 2,048 UTF-16 units, here inside a pair: the half left is taken out with the spaces before it.
    expect(cleanUserAgent(`curl${' '.repeat(4 * MAX_USER_AGENT_LENGTH - 5)}😀`)).toBe('curl');
  });
});

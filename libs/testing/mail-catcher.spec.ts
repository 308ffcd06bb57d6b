import { linksIn } from './mail-catcher.js';

describe("the links the mail catcher lists of a mail's text", () => {
  it('end before the punctuation of the sentence around them, each once', () => {
    const text = [
      'Set your password: https://panel.test/activate?token=abc-DEF_123',
      'If it was not you, ignore this mail (or reset it at https://panel.test/reset-password), today.',
      'Again: https://panel.test/activate?token=abc-DEF_123.',
    ].join('\n');
    expect(linksIn(text)).toEqual(['https://panel.test/activate?token=abc-DEF_123', 'https://panel.test/reset-password']);
  });
});

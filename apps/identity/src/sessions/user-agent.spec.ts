import { MAX_USER_AGENT_LENGTH } from '#libs/contracts/index.js';
import { deviceOf, storedUserAgent } from './user-agent.js';

describe('storedUserAgent', () => {
  it.each([
    ['Mozilla/5.0 (X11; Linux x86_64)', 'Mozilla/5.0 (X11; Linux x86_64)'],
    ['  curl/8.5.0\t', 'curl/8.5.0'],
    ['evil\r\nX-Injected: 1', 'evil X-Injected: 1'],
    ['a\u0000b\u007fc\u009bd', 'a b c d'],
    ['\u0007\u0008 ', null],
    ['', null],
  ])('keeps %j as %j', (header, stored) => {
    expect(storedUserAgent(header)).toBe(stored);
  });

  it('keeps nothing when no header was sent', () => {
    expect(storedUserAgent(undefined)).toBeNull();
  });

  it(`cuts what is longer than ${MAX_USER_AGENT_LENGTH} characters`, () => {
    expect(storedUserAgent('x'.repeat(MAX_USER_AGENT_LENGTH + 50))).toBe('x'.repeat(MAX_USER_AGENT_LENGTH));
  });

  it('cuts between characters, never inside one written as two UTF-16 units', () => {
    const kept = storedUserAgent(`${'x'.repeat(MAX_USER_AGENT_LENGTH - 1)}😀😀`)!;
    expect(kept).toBe(`${'x'.repeat(MAX_USER_AGENT_LENGTH - 1)}😀`);
  });
});

describe('deviceOf', () => {
  it.each([
    ['Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0', 'Firefox 133 on Linux'],
    ['Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36', 'Chrome 131 on Windows'],
    [
      'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.2903.70',
      'Edge 131 on Windows',
    ],
    ['Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Safari/605.1.15', 'Safari 17 on macOS'],
    [
      'Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Mobile/15E148 Safari/604.1',
      'Safari 17 on iPhone',
    ],
    [
      'Mozilla/5.0 (iPad; CPU OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/131.0.6778.73 Mobile/15E148 Safari/604.1',
      'Chrome 131 on iPad',
    ],
    ['Mozilla/5.0 (Linux; Android 14; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36', 'Chrome 131 on Android'],
    [
      'Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/26.0 Chrome/122.0.0.0 Mobile Safari/537.36',
      'Samsung Internet 26 on Android',
    ],
    ['Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 OPR/115.0.0.0', 'Opera 115 on ChromeOS'],
    [
      'Mozilla/5.0 (X11; Ubuntu; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chromium/130.0.0.0 Chrome/130.0.0.0 Safari/537.36',
      'Chromium 130 on Linux',
    ],
    ['curl/8.5.0', 'curl 8.5'],
    ['Wget/1.21.3', 'Wget 1.21'],
    ['PostmanRuntime/7.43.0', 'Postman 7.43'],
    ['python-requests/2.32.3', 'Python requests 2.32'],
    ['okhttp/4.12.0', 'OkHttp 4.12'],
    ['Go-http-client/2.0', 'Go 2.0'],
    ['node', 'Node.js'],
    ['Mozilla/5.0 (Windows NT 10.0; Win64; x64) SomeNewBrowser/1.0', 'Windows'],
    ['MyPanelApp/3.1', null],
    ['Mozilla/5.0', null],
  ])('describes %j as %j', (userAgent, device) => {
    expect(deviceOf(userAgent)).toBe(device);
  });

  it('describes nothing without a User-Agent', () => {
    expect(deviceOf(null)).toBeNull();
  });
});

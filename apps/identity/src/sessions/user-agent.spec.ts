import { deviceOf, storedUserAgent } from './user-agent.js';

describe('storedUserAgent', () => {
  it('keeps a User-Agent cleaned as the gateway cleans it, and null for none or one with nothing left', () => {
    expect(storedUserAgent(' curl/8.5.0\r\nX-Injected: 1 ')).toBe('curl/8.5.0 X-Injected: 1');
    expect(storedUserAgent(undefined)).toBeNull();
    expect(storedUserAgent('\u0007 ')).toBeNull();
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
    ['Go-http-client/2.0', 'Go HTTP client'],
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

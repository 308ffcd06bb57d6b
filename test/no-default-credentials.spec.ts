/**
 * P7: no shipped configuration carries a default account or password. (That a freshly migrated
 * database holds no user is checked in credentials.e2e-spec.ts.)
 */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

const URL_WITH_PASSWORD = /[a-z][a-z0-9+.-]*:\/\/[^/\s:@]+:[^@\s/]+@/i;
const SECRET_NAME = /(PASSWORD|SECRET|TOKEN|PRIVATE_KEY|CREDENTIAL)/i;
const NOT_A_SECRET = /(_TTL_|_MIN_LENGTH|_FILE$|_DIR$)/;

function walk(value: unknown, path: string[], visit: (path: string[], value: unknown) => void): void {
  visit(path, value);
  if (value && typeof value === 'object') for (const [key, child] of Object.entries(value)) walk(child, [...path, key], visit);
}

describe('no default credentials in shipped configuration (P7)', () => {
  it('.env.example sets no password, secret or token, and no URL carries one', () => {
    const lines = readFileSync('.env.example', 'utf8')
      .split('\n')
      .filter((line) => /^[A-Z_]+=/.test(line));
    expect(lines.length).toBeGreaterThan(10);
    for (const line of lines) {
      const [name, value] = [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)];
      if (SECRET_NAME.test(name) && !NOT_A_SECRET.test(name)) expect(`${name}=${value}`).toMatch(/=(-|)$/);
      expect(value).not.toMatch(URL_WITH_PASSWORD);
    }
  });

  it('the Helm values name Secrets but hold no password and no URL with one', () => {
    const values = parse(readFileSync('deploy/helm/portico/values.yaml', 'utf8')) as unknown;
    walk(values, [], (path, value) => {
      const key = path[path.length - 1] ?? '';
      if (typeof value !== 'string') return;
      expect(`${path.join('.')}=${value}`).not.toMatch(URL_WITH_PASSWORD);
      if (/^(password|pass|secret|token)$/i.test(key)) expect(`${path.join('.')}=${value}`).toMatch(/=$/);
    });
  });

  it('the image sets no password in its environment', () => {
    const env = readFileSync('Dockerfile', 'utf8')
      .split('\n')
      .filter((line) => /^\s*ENV\s/i.test(line));
    for (const line of env) expect(line).not.toMatch(SECRET_NAME);
  });
});

import type { Logger } from 'pino';
import type { DataSource } from 'typeorm';
import type { IdentityConfig } from '../identity.config.js';
import { SigningKeysService } from './signing-keys.service.js';

const jwk = (kid: string) => ({ kid, kty: 'EC', crv: 'P-256', x: 'x', y: 'y', alg: 'ES256', use: 'sig' });

/** A service whose database answers `reads` in turn (an Error: unreachable), signing with key `k1`. */
function serviceReading(...reads: Array<Array<{ publicJwk: ReturnType<typeof jwk> }> | Error>) {
  const warnings: string[] = [];
  const find = () => {
    const next = reads.shift()!;
    return next instanceof Error ? Promise.reject(next) : Promise.resolve(next);
  };
  const logger = { warn: (_: unknown, message: string) => warnings.push(message), error: () => undefined } as unknown as Logger;
  const service = new SigningKeysService({ manager: { find } } as unknown as DataSource, {} as IdentityConfig, logger);
  Object.assign(service, { active: { kid: 'k1' } });
  return { service, warnings };
}

describe('the published signing keys', () => {
  it('are read afresh each time: a key retired meanwhile is no longer published', async () => {
    const { service } = serviceReading([{ publicJwk: jwk('k2') }, { publicJwk: jwk('k1') }], [{ publicJwk: jwk('k1') }]);
    expect((await service.jwks()).keys.map((key) => key.kid)).toEqual(['k1', 'k2']);
    expect((await service.jwks()).keys.map((key) => key.kid)).toEqual(['k1']);
  });

  it('are the set read last while the database cannot be read, and an error before any was read', async () => {
    const { service, warnings } = serviceReading([{ publicJwk: jwk('k1') }], new Error('connection refused'));
    await service.jwks();
    expect((await service.jwks()).keys.map((key) => key.kid)).toEqual(['k1']);
    expect(warnings).toEqual(['Could not read the signing keys; publishing the set read last']);
    await expect(serviceReading(new Error('connection refused')).service.jwks()).rejects.toThrow('connection refused');
  });
});

import { packagesLoadedBy } from '#libs/testing/loaded-packages.js';

describe('the gateway, which has no database', () => {
  it('never loads TypeORM or node-postgres (the database side of libs/platform is imported apart, from storage.ts)', async () => {
    expect(await packagesLoadedBy('apps/gateway/src/gateway.module.js', ['typeorm', 'pg'])).toEqual([]);
  });

  it('while a service with a database loads TypeORM (what the probe sees; node-postgres waits for the connection)', async () => {
    expect(await packagesLoadedBy('apps/identity/src/identity.module.js', ['typeorm', 'pg'])).toEqual(['typeorm']);
  });
});

describe('the OpenAPI description (libs/contracts/api-docs.ts)', () => {
  it.each(['identity', 'access', 'notifications'])('is not loaded by %s, which serves none', async (service) => {
    expect(await packagesLoadedBy(`apps/${service}/src/${service}.module.js`, ['@nestjs/swagger'])).toEqual([]);
  });

  it('is loaded by the gateway, which serves /openapi.json', async () => {
    expect(await packagesLoadedBy('apps/gateway/src/gateway.app.js', ['@nestjs/swagger'])).toEqual(['@nestjs/swagger']);
  });
});

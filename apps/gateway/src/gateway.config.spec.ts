import { ConfigError, loadConfig } from '#libs/platform/index.js';
import { gatewayEnv, loadGatewayConfig } from './gateway.config.js';

const read = (env: Record<string, string>) => loadConfig(gatewayEnv, env);

describe('TRUST_PROXY', () => {
  it.each([
    ['false', false],
    ['0', false],
    ['true', 1],
    ['2', 2],
    ['10.0.0.0/8, loopback', ['10.0.0.0/8', 'loopback']],
    ['fd00::/8', ['fd00::/8']],
  ])('reads %s as %j (never "trust every hop", which would take the address the client wrote)', (raw, expected) => {
    expect(read({ TRUST_PROXY: raw }).TRUST_PROXY).toEqual(expected);
  });

  it.each(['yes please', '10.0.0.0/40', '11', 'example.com'])('refuses %s at start', (raw) => {
    expect(() => read({ TRUST_PROXY: raw })).toThrow(/TRUST_PROXY/);
  });
});

describe('BODY_LIMIT', () => {
  it.each([
    ['100kb', '102400'],
    ['1MB', '1048576'],
    ['4096', '4096'],
  ])('reads %s as %s bytes', (raw, bytes) => {
    expect(read({ BODY_LIMIT: raw }).BODY_LIMIT).toBe(bytes);
  });

  it.each(['1M', '10mib', 'abc', '12', '50mb'])('refuses %s at start (body-parser would read it as something else, or fail)', (raw) => {
    expect(() => read({ BODY_LIMIT: raw })).toThrow(/BODY_LIMIT/);
  });
});

describe('METRICS_PORT', () => {
  it('defaults to 9464, may be off (0), and must not be the API port', () => {
    expect(loadGatewayConfig({}).METRICS_PORT).toBe(9464);
    expect(loadGatewayConfig({ METRICS_PORT: '0', GATEWAY_PORT: '0' }).METRICS_PORT).toBe(0);
    expect(() => loadGatewayConfig({ METRICS_PORT: '3000' })).toThrow(/METRICS_PORT must differ from GATEWAY_PORT \(3000\)/);
    expect(() => loadGatewayConfig({ METRICS_PORT: '8080', GATEWAY_PORT: '8080' })).toThrow(ConfigError);
  });
});

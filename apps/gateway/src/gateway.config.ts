import { isIP } from 'node:net';
import { commonEnv, ConfigError, integer, list, loadConfig, text, type ConfigOf, type EnvVar } from '#libs/platform/index.js';

/** Every environment variable of the gateway. */
export const gatewayEnv = {
  ...commonEnv,
  GATEWAY_PORT: integer('HTTP port of the API', 0, 65535, 3000),
  GATEWAY_HOST: text('Address the API listens on', '0.0.0.0'),
  METRICS_PORT: integer('Port of the Prometheus /metrics server, apart from the API (same address as the API; 0: off)', 0, 65535, 9464),
  CORS_ORIGINS: list('Origins allowed by CORS, comma-separated ("*" for any; empty: CORS off)'),
  BODY_LIMIT: byteSize('Largest accepted request body: bytes, or a number with kb or mb (1kb..10mb)', '100kb'),
  TRUST_PROXY: trustedProxies(
    'Which proxies in front may tell the client address in X-Forwarded-For: false (none), true or a number of proxies (hops), or their addresses/CIDR ranges (comma-separated; also loopback, linklocal, uniquelocal)',
  ),
  JWT_ISSUER: text('The iss claim access tokens must carry', 'portico'),
  JWT_AUDIENCE: text('The aud claim access tokens must carry', 'portico-api'),
  JWT_KEYS_REFRESH_MS: integer(
    'How often the gateway fetches the token verification keys from identity again (ms): a key marked retired there is refused within this time',
    1000,
    3_600_000,
    60_000,
  ),
  HEALTH_TIMEOUT_MS: integer('How long /health/system waits for each service (ms)', 50, 10_000, 1000),
};

/** The validated configuration of the gateway. */
export type GatewayConfig = ConfigOf<typeof gatewayEnv>;

/** Loads the gateway's configuration, also refusing settings that only clash together. */
export function loadGatewayConfig(env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  const config = loadConfig(gatewayEnv, env);
  if (config.METRICS_PORT !== 0 && config.METRICS_PORT === config.GATEWAY_PORT) {
    throw new ConfigError([`METRICS_PORT must differ from GATEWAY_PORT (${config.GATEWAY_PORT}): metrics are never served on the API port`]);
  }
  return config;
}

const UNITS = { b: 1, kb: 1024, mb: 1024 * 1024 } as const;

/** A size in bytes: `<n>`, `<n>b`, `<n>kb` or `<n>mb`, between 1 KiB and 10 MiB (what body-parser reads the same way). */
function byteSize(description: string, defaultValue: string): EnvVar<string> {
  return {
    description,
    default: defaultValue,
    parse(raw) {
      const match = /^(\d+)\s*(b|kb|mb)?$/i.exec(raw.trim());
      if (!match) throw new Error(`"${raw}" is not a size such as 100kb or 1mb`);
      const bytes = Number(match[1]) * UNITS[(match[2]?.toLowerCase() ?? 'b') as keyof typeof UNITS];
      if (bytes < 1024 || bytes > 10 * 1024 * 1024) throw new Error(`"${raw}" is outside 1kb..10mb`);
      return String(bytes);
    },
  };
}

const PROXY_NAMES = ['loopback', 'linklocal', 'uniquelocal'];

/**
 * Express's `trust proxy`, never "trust everyone": `true` means the one proxy in front (the client
 * is the address it appended last, which a client cannot forge), a number that many proxies, or a
 * list of the proxies' addresses and ranges. Trusting every hop would take the left-most address,
 * which the client writes itself.
 */
function trustedProxies(description: string): EnvVar<false | number | string[]> {
  return {
    description,
    default: 'false',
    parse(raw) {
      const value = raw.trim().toLowerCase();
      if (value === '' || value === 'false' || value === '0') return false;
      if (value === 'true') return 1;
      if (/^\d+$/.test(value)) {
        if (Number(value) > 10) throw new Error(`${value} proxies in front is not plausible (1..10)`);
        return Number(value);
      }
      const entries = value.split(',').map((entry) => entry.trim());
      const bad = entries.filter((entry) => !PROXY_NAMES.includes(entry) && !isAddressOrRange(entry));
      if (bad.length > 0) throw new Error(`not an address, a CIDR range or one of ${PROXY_NAMES.join(', ')}: ${bad.join(', ')}`);
      return entries;
    },
  };
}

function isAddressOrRange(entry: string): boolean {
  const [address, bits, ...rest] = entry.split('/');
  if (rest.length > 0 || !isIP(address)) return false;
  return bits === undefined || (/^\d+$/.test(bits) && Number(bits) <= (isIP(address) === 4 ? 32 : 128));
}

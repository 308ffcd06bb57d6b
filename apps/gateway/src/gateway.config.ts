import { boolean, commonEnv, integer, list, text, type ConfigOf } from '#libs/platform/index.js';

/** Every environment variable of the gateway. */
export const gatewayEnv = {
  ...commonEnv,
  GATEWAY_PORT: integer('HTTP port of the API', 0, 65535, 3000),
  GATEWAY_HOST: text('Address the API listens on', '0.0.0.0'),
  CORS_ORIGINS: list('Origins allowed by CORS, comma-separated ("*" for any; empty: CORS off)'),
  BODY_LIMIT: text('Largest accepted request body (bytes, or with kb/mb)', '100kb'),
  TRUST_PROXY: boolean('Whether to take the client address from X-Forwarded-For (behind a proxy or ingress)', false),
  JWT_ISSUER: text('The iss claim access tokens must carry', 'portico'),
  JWT_AUDIENCE: text('The aud claim access tokens must carry', 'portico-api'),
  HEALTH_TIMEOUT_MS: integer('How long /health/ready waits for each service (ms)', 50, 10_000, 1000),
};

/** The validated configuration of the gateway. */
export type GatewayConfig = ConfigOf<typeof gatewayEnv>;

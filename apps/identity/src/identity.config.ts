import { boolean, commonEnv, ConfigError, databaseEnv, eventsStreamEnv, integer, loadConfig, text, url, type ConfigOf } from '#libs/platform/index.js';
import { assertDistinctKeyIds, readPreviousSecretKeyFiles, readSecretKeyFile } from './mfa/secret-key.js';
import { readSigningKeyFile } from './sessions/signing-key-file.js';

/** The longest ACCESS_TOKEN_TTL_SECONDS allowed: no access token outlives its issue by more (see SessionsService.gateState). */
export const MAX_ACCESS_TOKEN_TTL_SECONDS = 3600;

/** Every environment variable of the identity service. */
export const identityEnv = {
  ...commonEnv,
  ...databaseEnv,
  ...eventsStreamEnv,
  HEALTH_PORT: integer(
    'Port of the HTTP server of the probes (/health/live, /health/ready) and of Prometheus (/metrics); keep it internal (0: off)',
    0,
    65535,
    3001,
  ),
  PUBLIC_WEB_URL: url('Base URL of the web panel; links in mails point under it', ['http', 'https'], 'http://localhost:5173'),
  SIGNUP_ENABLED: boolean('Whether anyone may create an account with POST /v1/accounts', true),
  MAX_SUBUSERS_PER_ACCOUNT: integer(
    'Most subusers one account may have (every access replica keeps their bindings in memory; 409 beyond)',
    1,
    1_000_000,
    10_000,
  ),
  MAX_SERVICE_ACCOUNTS_PER_ACCOUNT: integer(
    'Most service accounts one account may have (every access replica keeps their bindings in memory; 409 beyond)',
    1,
    100_000,
    100,
  ),
  MAX_KEYS_PER_SERVICE_ACCOUNT: integer('API keys (not revoked) one service account may hold at once: two at least, for a rotation (409 beyond)', 2, 100, 5),
  SERVICE_ACCOUNT_TOKEN_TTL_SECONDS: integer(
    'Lifetime of the access tokens a service account gets for a key (seconds; no refresh token: it asks again)',
    60,
    MAX_ACCESS_TOKEN_TTL_SECONDS,
    900,
  ),
  MAX_MEMBERS_PER_ACCOUNT: integer(
    'Most people one account may have in its user table (every access replica keeps their bindings in memory; 409 beyond)',
    1,
    10_000_000,
    100_000,
  ),
  SIGNUP_ADDRESS_LIMIT: integer('Sign-ups from one client address before it must wait (15 minutes, then 30, 60 ... up to a day; 429)', 1, 100_000, 10),
  ACTIVATION_TOKEN_TTL_HOURS: integer('Lifetime of activation and invitation links (hours)', 1, 24 * 30, 24 * 7),
  RESET_TOKEN_TTL_MINUTES: integer('Lifetime of password reset links (minutes)', 5, 24 * 60, 60),
  EMAIL_CHANGE_TOKEN_TTL_HOURS: integer('Lifetime of the links that confirm a new login e-mail (hours)', 1, 24 * 7, 24),
  EMAIL_UNDO_TOKEN_TTL_HOURS: integer('Lifetime of the links that move a login back to the e-mail it left (hours; 0: no such link)', 0, 24 * 30, 24 * 7),
  MFA_CHALLENGE_TTL_MINUTES: integer('Time between the password and the code of a two-step sign-in (minutes)', 1, 30, 5),
  MFA_SECRET_KEY_FILE: text(
    'File with the 256-bit key (base64 or hex) that seals authenticator secrets in the database (AES-256-GCM); "-" keeps them as they are',
    '-',
  ),
  MFA_PREVIOUS_SECRET_KEY_FILES: text(
    'Files (separated by commas) with keys that sealed authenticator secrets before MFA_SECRET_KEY_FILE: they open those secrets, never seal; "-" for none (key rotation: docs/deploy.md)',
    '-',
  ),
  MFA_BLOCK_AFTER_WRONG_CODES: integer(
    "Wrong codes at the second step of a sign-in within 30 days (right codes between them included) after which that login's second step is blocked (423 SECOND_STEP_BLOCKED) until its password is reset or changed, or its second step reset",
    5,
    1000,
    20,
  ),
  MFA_ISSUER: text('The name authenticator apps show beside a Portico login (the issuer of its otpauth URI)', 'Portico'),
  ACCESS_TOKEN_TTL_SECONDS: integer('Lifetime of access tokens (seconds)', 60, MAX_ACCESS_TOKEN_TTL_SECONDS, 900),
  REFRESH_TOKEN_TTL_DAYS: integer('Absolute lifetime of a user session (days)', 1, 365, 30),
  MAX_OPEN_SESSIONS: integer('Open sessions one login may have: a sign-in beyond them ends the one used least recently', 2, 1000, 100),
  SUBUSER_SESSION_TTL_HOURS: integer('Absolute lifetime of a subuser session (hours; at most REFRESH_TOKEN_TTL_DAYS in hours)', 1, 24 * 30, 8),
  JWT_ISSUER: text('The iss claim of access tokens', 'portico'),
  JWT_AUDIENCE: text('The aud claim of access tokens', 'portico-api'),
  JWT_PRIVATE_KEY_FILE: text('PEM file (PKCS#8, P-256) that signs access tokens; "-" keeps a generated key in the database', '-'),
  PASSWORD_MIN_LENGTH: integer('Shortest password accepted (never below 8)', 8, 128, 12),
  ARGON2_MAX_CONCURRENCY: integer('Password hashes computed at once', 1, 64, 2),
  ARGON2_QUEUE_LIMIT: integer('Password hashes waiting beyond which logins answer 503', 1, 10_000, 64),
};

/** The validated configuration of the identity service. */
export type IdentityConfig = ConfigOf<typeof identityEnv>;

/**
 * The identity configuration from `env`, its key files read too: a missing or malformed one (a
 * signing key that is not EC P-256 among them), or two
 * different keys with one key id, is a ConfigError naming its variable; so are subuser sessions
 * set to outlive user sessions (S5 gives subusers the shorter lifetime).
 */
export function loadIdentityConfig(env: NodeJS.ProcessEnv): IdentityConfig {
  const config = loadConfig(identityEnv, env);
  const userSessionHours = config.REFRESH_TOKEN_TTL_DAYS * 24;
  if (config.SUBUSER_SESSION_TTL_HOURS > userSessionHours) {
    throw new ConfigError([
      `SUBUSER_SESSION_TTL_HOURS (${config.SUBUSER_SESSION_TTL_HOURS}) must not exceed REFRESH_TOKEN_TTL_DAYS (${config.REFRESH_TOKEN_TTL_DAYS}) in hours (${userSessionHours}): a subuser session may not outlive a user session`,
    ]);
  }
  if (config.JWT_PRIVATE_KEY_FILE !== '-') readSigningKeyFile(config.JWT_PRIVATE_KEY_FILE);
  const current = readSecretKeyFile(config.MFA_SECRET_KEY_FILE);
  assertDistinctKeyIds([...(current ? [current] : []), ...readPreviousSecretKeyFiles(config.MFA_PREVIOUS_SECRET_KEY_FILES)]);
  return config;
}

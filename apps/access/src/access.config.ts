import { commonEnv, databaseEnv, eventsStreamEnv, integer, text, type ConfigOf } from '#libs/platform/index.js';

/** Every environment variable of the access service. */
export const accessEnv = {
  ...commonEnv,
  ...databaseEnv,
  ...eventsStreamEnv,
  HEALTH_PORT: integer(
    'Port of the HTTP server of the probes (/health/live, /health/ready) and of Prometheus (/metrics); keep it internal (0: off)',
    0,
    65535,
    3002,
  ),
  ACCESS_RESYNC_INTERVAL_MS: integer(
    'How often (ms) a replica looks in PostgreSQL for account changes whose access.changed broadcast it missed, and retries failed reloads',
    1000,
    3_600_000,
    5000,
  ),
  ACCESS_MAX_CUSTOM_ROLES: integer('Most custom roles one account may have (each is kept in memory by every access replica)', 1, 100_000, 500),
  ACCESS_MAX_APPLICATIONS: integer('Most applications one account may have (each is kept in memory by every access replica)', 1, 1_000_000, 10_000),
  ACCESS_CATALOG: text('Section catalogue: a shipped name (voximplant, workspace) or a path to a YAML file', 'voximplant'),
};

/** The validated configuration of the access service. */
export type AccessConfig = ConfigOf<typeof accessEnv>;

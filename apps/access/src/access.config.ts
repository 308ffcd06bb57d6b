import { commonEnv, databaseEnv, integer, text, type ConfigOf } from '#libs/platform/index.js';

/** Every environment variable of the access service. */
export const accessEnv = {
  ...commonEnv,
  ...databaseEnv,
  HEALTH_PORT: integer('Port of the /health/live and /health/ready HTTP probe server (0: off)', 0, 65535, 3002),
  ACCESS_CATALOG: text('Section catalogue: a shipped name (voximplant, workspace) or a path to a YAML file', 'voximplant'),
};

/** The validated configuration of the access service. */
export type AccessConfig = ConfigOf<typeof accessEnv>;

import { readFileSync } from 'node:fs';
import { credsAuthenticator } from '@nats-io/transport-node';

/**
 * Configuration from environment variables, validated at boot. Each service declares a schema of
 * {@link EnvVar}s; {@link loadConfig} reads them all and reports every problem at once.
 */

/** How one environment variable is read. */
export interface EnvVar<T> {
  /** What the variable is for (printed with problems, and the source of `.env.example`). */
  description: string;
  /** The value when the variable is unset; absent means the variable is required. */
  default?: string;
  /** Turns the raw text into a value, or throws an Error whose message says what is wrong. */
  parse(raw: string): T;
}

/** A schema: variable name -> how to read it. */
export type EnvSchema = Record<string, EnvVar<unknown>>;
/** The typed configuration a schema produces. */
export type ConfigOf<S extends EnvSchema> = { [K in keyof S]: S[K] extends EnvVar<infer T> ? T : never };

/**
 * Thrown by {@link loadConfig} with one line per bad or missing variable. The problems quote
 * values, so the credentials of URL-looking ones (a malformed DATABASE_URL) are redacted first.
 */
export class ConfigError extends Error {
  readonly problems: string[];

  constructor(problems: string[]) {
    const redacted = problems.map(redactUrlCredentials);
    super(`Invalid configuration:\n${redacted.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = redacted;
  }
}

/**
 * `text` with the userinfo of every URL-looking value (`scheme://user:password@`) replaced by `***`.
 * A malformed URL's password may hold `@`, `/` or spaces: everything from `://` to the line's
 * last `@` goes, which may hide a host too but never leaves part of a password.
 */
export function redactUrlCredentials(text: string): string {
  return text
    .split('\n')
    .map((line) => line.replace(/([A-Za-z][A-Za-z0-9+.-]*:\/\/).*@/, '$1***@'))
    .join('\n');
}

/** Reads and validates every variable of `schema` from `env`; throws a {@link ConfigError} naming all problems. */
export function loadConfig<S extends EnvSchema>(schema: S, env: NodeJS.ProcessEnv = process.env): ConfigOf<S> {
  const problems: string[] = [];
  const config: Record<string, unknown> = {};
  for (const [name, variable] of Object.entries(schema)) {
    const raw = env[name] === undefined || env[name] === '' ? variable.default : env[name];
    if (raw === undefined) {
      problems.push(`${name} is required (${variable.description})`);
      continue;
    }
    try {
      config[name] = variable.parse(raw);
    } catch (error) {
      problems.push(`${name}: ${(error as Error).message}`);
    }
  }
  if (problems.length === 0 && 'NATS_CREDS_FILE' in schema) problems.push(...natsAuthProblems(config as unknown as NatsAuthConfig));
  if (problems.length > 0) throw new ConfigError(problems);
  return config as ConfigOf<S>;
}

/** The NATS authentication variables of {@link commonEnv} ("-": not set). */
export interface NatsAuthConfig {
  NATS_USER: string;
  NATS_PASSWORD: string;
  NATS_CREDS_FILE: string;
}

/** What is wrong between the NATS authentication variables (empty: nothing): a credentials file and a user/password are two ways, not one. */
export function natsAuthProblems(config: NatsAuthConfig): string[] {
  if (config.NATS_CREDS_FILE === '-' || (config.NATS_USER === '-' && config.NATS_PASSWORD === '-')) return [];
  return ['NATS_CREDS_FILE: set either a credentials file or NATS_USER/NATS_PASSWORD, not both'];
}

/**
 * Like {@link loadConfig} (or the service's own `load`, which may check more and throw a
 * {@link ConfigError} too), but prints the problems and exits with status 78 (EX_CONFIG).
 */
export function loadConfigOrExit<S extends EnvSchema, C = ConfigOf<S>>(
  service: string,
  schema: S,
  load: (env: NodeJS.ProcessEnv) => C = (env) => loadConfig(schema, env) as C,
): C {
  try {
    return load(process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`[${service}] ${error.message}\n`);
    process.exit(78);
  }
}

/** A text variable. */
export function text(description: string, defaultValue?: string): EnvVar<string> {
  return { description, default: defaultValue, parse: (raw) => raw };
}

/** A URL whose protocol is one of `protocols`. */
export function url(description: string, protocols: string[], defaultValue?: string): EnvVar<string> {
  return {
    description,
    default: defaultValue,
    parse(raw) {
      let parsed: URL;
      try {
        parsed = new URL(raw);
      } catch {
        throw new Error(`"${raw}" is not a URL`);
      }
      if (!protocols.includes(parsed.protocol.replace(/:$/, ''))) {
        throw new Error(`protocol must be one of ${protocols.join(', ')}, got ${parsed.protocol}`);
      }
      return raw;
    },
  };
}

/** A whole number within [min, max]. */
export function integer(description: string, min: number, max: number, defaultValue?: number): EnvVar<number> {
  return {
    description,
    default: defaultValue?.toString(),
    parse(raw) {
      if (!/^-?\d+$/.test(raw.trim())) throw new Error(`"${raw}" is not a whole number`);
      const value = Number(raw);
      if (value < min || value > max) throw new Error(`${value} is outside ${min}..${max}`);
      return value;
    },
  };
}

/** `true`/`false` (also 1/0, yes/no). */
export function boolean(description: string, defaultValue?: boolean): EnvVar<boolean> {
  return {
    description,
    default: defaultValue?.toString(),
    parse(raw) {
      const value = raw.trim().toLowerCase();
      if (['true', '1', 'yes'].includes(value)) return true;
      if (['false', '0', 'no'].includes(value)) return false;
      throw new Error(`"${raw}" is not true or false`);
    },
  };
}

/** One of a fixed set of words. */
export function oneOf<T extends string>(description: string, values: readonly T[], defaultValue?: T): EnvVar<T> {
  return {
    description,
    default: defaultValue,
    parse(raw) {
      if (!values.includes(raw as T)) throw new Error(`"${raw}" is not one of ${values.join(', ')}`);
      return raw as T;
    },
  };
}

/** A comma-separated list of words (empty allowed). */
export function list(description: string, defaultValue = ''): EnvVar<string[]> {
  return {
    description,
    default: defaultValue,
    parse: (raw) =>
      raw
        .split(',')
        .map((item) => item.trim())
        .filter((item) => item.length > 0),
  };
}

/**
 * The path of a NATS credentials file (`.creds`: a user JWT and its NKey seed), or "-". The file
 * is read and parsed at boot, so a missing, unreadable or malformed one stops the service with a
 * config error instead of a connection that fails (or retries) later.
 */
export function natsCredsFile(description: string): EnvVar<string> {
  return {
    description,
    default: '-',
    parse(raw) {
      if (raw === '-') return raw;
      let content: Buffer;
      try {
        content = readFileSync(raw);
      } catch (error) {
        throw new Error(`cannot read "${raw}" (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
      }
      try {
        // Signing a nonce parses the JWT and the seed as a connection will.
        credsAuthenticator(content)('config-check');
      } catch {
        throw new Error(`"${raw}" is not a NATS credentials file (a user JWT and NKey seed, as \`nsc generate creds\` writes)`);
      }
      return raw;
    },
  };
}

/** Variables every service reads. */
export const commonEnv = {
  NATS_URL: url('NATS server(s) for request/reply and JetStream', ['nats', 'tls', 'ws', 'wss'], 'nats://127.0.0.1:4222'),
  NATS_USER: text('NATS user name, when the server requires one', '-'),
  NATS_PASSWORD: text('NATS password, when the server requires one', '-'),
  /** Decentralised auth (operator/account JWTs): the user's `.creds` file; not together with NATS_USER/NATS_PASSWORD. */
  NATS_CREDS_FILE: natsCredsFile('NATS user credentials file (.creds, JWT + NKey seed), when the server uses decentralised auth ("-": none)'),
  LOG_LEVEL: oneOf('Log level', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const, 'info'),
  RPC_TIMEOUT_MS: integer('How long a NATS request waits for its answer (ms)', 50, 120_000, 5000),
  SHUTDOWN_GRACE_MS: integer('On SIGTERM, how long in-flight work may take to finish (ms)', 0, 120_000, 10_000),
};

/** Variables of a service that makes the events stream if missing (identity, access, notifications: its producers and consumers). */
export const eventsStreamEnv = {
  /**
   * NATS servers that keep a copy of the events stream (JetStream's `num_replicas`): at most the
   * servers of the NATS cluster (a single server takes only 1). Applied when the stream is made,
   * and to an existing stream at each start (NATS moves it; a refusal is logged, the stream kept).
   */
  NATS_STREAM_REPLICAS: integer('NATS servers that keep a copy of the events stream (1 for a single server; at most the servers of the cluster)', 1, 5, 1),
};

/** Variables of a service that owns a database schema. */
export const databaseEnv = {
  DATABASE_URL: url('PostgreSQL connection URL', ['postgres', 'postgresql'], 'postgres://postgres@127.0.0.1:5432/portico'),
  DATABASE_POOL_SIZE: integer('Connections in the pool of each service', 1, 200, 10),
};

import { pino } from 'pino';
import { DataSource } from 'typeorm';
import { loadIdentityConfig, type IdentityConfig } from '../../apps/identity/src/identity.config.js';
import { FactorSecrets } from '../../apps/identity/src/mfa/factor-secrets.js';
import {
  BadInput,
  CommonExit,
  runOperatorCommand,
  withIdentityDatabase,
  type CommandOutput,
  type CommandRequest,
  type OperatorCommand,
} from '../command-line.js';

/** The command's exit statuses. */
export const ResealExit = { ...CommonExit, NotAllResealed: 3 } as const;

/** Secrets read (and written) per round trip. */
const BATCH = 200;
const MIN_UUID = '00000000-0000-0000-0000-000000000000';

/** How to call the command. */
export const RESEAL_USAGE = [
  'Usage: node dist/tools/reseal-second-step-secrets.js',
  '       (npm run reseal-second-step-secrets)',
  '',
  'Seals every stored authenticator secret under the key of MFA_SECRET_KEY_FILE: those sealed under a key of',
  "MFA_PREVIOUS_SECRET_KEY_FILES, and those stored as they are (from before a key was set). Run it, with identity's",
  'environment, once every identity replica has the current key; afterwards the previous keys can be dropped.',
  'Safe to run again, and while identity serves: a secret replaced or removed meanwhile is left as that made it. At the',
  'end it reads every secret again, and exits 0 only if all are sealed under the current key.',
  '',
  'Exit status: 0 done, 3 some secrets are not under the current key yet (unreadable with these keys, or set up meanwhile',
  'on a pod without the current key: their count is printed; keep the previous keys and run it again),',
  '2 bad input, 78 bad environment (no MFA_SECRET_KEY_FILE, an unreadable key file), 1 any other failure.',
].join('\n');

/** What a run did. */
interface Counts {
  resealed: number;
  current: number;
  unreadable: number;
  replacedMeanwhile: number;
  /** Secrets not under the current key when the run ends (read again after resealing). */
  left: number;
}

/** Reseals the stored authenticator secrets under the current key (key rotation, docs/deploy.md). Returns the exit status; never a stack trace. */
export function runResealCommand(argv: string[], env: NodeJS.ProcessEnv, output: CommandOutput): Promise<number> {
  return runOperatorCommand(resealCommand, argv, env, output);
}

const resealCommand: OperatorCommand<CommandRequest, IdentityConfig> = {
  name: 'reseal-second-step-secrets',
  usage: RESEAL_USAGE,
  nothingDone: 'nothing was changed',
  parse: (argv) => {
    if (argv.length === 1 && (argv[0] === '--help' || argv[0] === '-h')) return { help: true };
    if (argv.length > 0) throw new BadInput([`it takes no argument (${argv[0]}): its keys come from the environment`]);
    return { help: false };
  },
  configure: loadIdentityConfig,
  run: (_request, config, output) => reseal(config, output),
};

async function reseal(config: IdentityConfig, output: CommandOutput): Promise<number> {
  if (config.MFA_SECRET_KEY_FILE === '-') {
    output.err('reseal-second-step-secrets: MFA_SECRET_KEY_FILE is not set: there is no key to seal with; nothing was changed.');
    return ResealExit.BadEnvironment;
  }
  const counts = await resealAll(config);
  output.out(
    `Resealed ${counts.resealed} authenticator secret(s) under the current key; ${counts.current} already were; ${counts.replacedMeanwhile} were replaced or removed meanwhile.`,
  );
  if (counts.unreadable > 0)
    output.err(
      `reseal-second-step-secrets: ${counts.unreadable} secret(s) could not be read with these keys and were left as they are: add the key that sealed them to MFA_PREVIOUS_SECRET_KEY_FILES.`,
    );
  if (counts.left > 0) {
    output.err(
      `reseal-second-step-secrets: ${counts.left} secret(s) are not sealed under the current key at the end (unreadable, or set up meanwhile on a pod without the current key): keep MFA_PREVIOUS_SECRET_KEY_FILES, and run this again once every identity pod has the current key.`,
    );
    return ResealExit.NotAllResealed;
  }
  output.out('Every secret is sealed under the current key: MFA_PREVIOUS_SECRET_KEY_FILES can be emptied.');
  return ResealExit.Ok;
}

function resealAll(config: IdentityConfig): Promise<Counts> {
  return withIdentityDatabase(config, 'portico-reseal', async (dataSource) => {
    const secrets = new FactorSecrets(dataSource, config, pino({ level: 'silent' }));
    const counts: Counts = { resealed: 0, current: 0, unreadable: 0, replacedMeanwhile: 0, left: 0 };
    await eachStoredSecret(dataSource, (row) => resealOne(dataSource, secrets, row, counts));
    // Read again: a set-up on a pod that lacks the current key may have stored one under a previous key meanwhile.
    await eachStoredSecret(dataSource, (row) => {
      if (!secrets.isSealedUnderCurrentKey(row.secret)) counts.left += 1;
      return Promise.resolve();
    });
    return counts;
  });
}

/** Calls `visit` with every stored secret, in id order, a batch a round trip. */
async function eachStoredSecret(dataSource: DataSource, visit: (row: { id: string; secret: Buffer }) => Promise<void>): Promise<void> {
  let after = MIN_UUID;
  for (;;) {
    const rows = await dataSource.query<Array<{ id: string; secret: Buffer }>>('SELECT id, secret FROM totp_factors WHERE id > $1 ORDER BY id LIMIT $2', [
      after,
      BATCH,
    ]);
    if (rows.length === 0) return;
    for (const row of rows) await visit(row);
    after = rows[rows.length - 1].id;
  }
}

/** Reseals one stored secret, only if it is still the one read (a set-up replaces its row), and counts what happened. */
async function resealOne(dataSource: DataSource, secrets: FactorSecrets, row: { id: string; secret: Buffer }, counts: Counts): Promise<void> {
  if (secrets.isSealedUnderCurrentKey(row.secret)) {
    counts.current += 1;
    return;
  }
  let resealed: Buffer | null;
  try {
    resealed = secrets.reseal(row.secret);
  } catch {
    // Altered: it names a key given, and does not open under it.
    resealed = null;
  }
  if (resealed === null) {
    // Sealed under a key not given, altered, or in no known format.
    counts.unreadable += 1;
    return;
  }
  const [{ count }] = await dataSource.query<Array<{ count: number }>>(
    'WITH changed AS (UPDATE totp_factors SET secret = $2 WHERE id = $1 AND secret = $3 RETURNING 1) SELECT count(*)::int AS count FROM changed',
    [row.id, resealed, row.secret],
  );
  if (count === 1) counts.resealed += 1;
  else counts.replacedMeanwhile += 1;
}

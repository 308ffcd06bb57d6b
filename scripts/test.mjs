// `npm test`: unit, integration and whole-system tests on this machine, fresh databases each run.
// Makes sure PostgreSQL answers (installing/starting one if needed) and nats-server exists (each
// test file runs its own private NATS server). Ends with the line "N passed, N failed".
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { build, ensureDependencies, ensureNatsBinary, ensurePostgres, LOCAL, ROOT, say } from './infra.mjs';

const defaultServerUrl = 'postgres://postgres@127.0.0.1:5432/postgres';
ensureDependencies();
build();
const stops = [];
const serverUrl = await ensurePostgres(process.env.TEST_DATABASE_URL ?? defaultServerUrl, {
  mayMove: !process.env.TEST_DATABASE_URL,
  onStarted: (stop) => stops.push(stop),
});
const natsBin = ensureNatsBinary();
mkdirSync(LOCAL, { recursive: true });
const results = join(LOCAL, 'jest-results.json');
rmSync(results, { force: true });

say('running the tests');
const jest = spawnSync(
  process.execPath,
  [
    '--experimental-vm-modules',
    '--no-warnings=ExperimentalWarning',
    'node_modules/jest/bin/jest.js',
    '--json',
    `--outputFile=${results}`,
    ...process.argv.slice(2),
  ],
  { cwd: ROOT, stdio: 'inherit', env: { ...process.env, TEST_DATABASE_URL: serverUrl, NATS_SERVER_BIN: natsBin } },
);
for (const stop of stops) await stop();

if (existsSync(results)) {
  const summary = JSON.parse(readFileSync(results, 'utf8'));
  const failed = summary.numFailedTests + (summary.numRuntimeErrorTestSuites ?? 0);
  process.stdout.write(`${summary.numPassedTests} passed, ${failed} failed\n`);
} else {
  process.stdout.write('0 passed, 1 failed\n');
}
process.exit(jest.status ?? 1);

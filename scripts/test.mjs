// `npm test`: unit, integration and whole-system tests on this machine, fresh databases each run.
// Makes sure PostgreSQL answers (installing/starting one if needed) and nats-server exists (each
// test file runs its own private NATS server). Ends with the line "N passed, N failed".
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { build, ensureDependencies, ensureNatsBinary, ensurePostgres, mayMovePostgres, LOCAL, ROOT, say } from './infra.mjs';

const DEFAULT_SERVER_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
const results = join(LOCAL, 'jest-results.json');
const stops = [];
/** Jest while it runs: a signal to `npm test` is passed on to it, and the run then ends as it would. */
let jest;

async function stopStarted() {
  while (stops.length) await stops.pop()();
}

async function main() {
  ensureDependencies();
  build();
  const chosenUrl = process.env.TEST_DATABASE_URL ?? serverOf(process.env.DATABASE_URL);
  const serverUrl = await ensurePostgres(chosenUrl ?? DEFAULT_SERVER_URL, {
    mayMove: mayMovePostgres(chosenUrl),
    urlName: process.env.TEST_DATABASE_URL ? 'TEST_DATABASE_URL' : 'DATABASE_URL',
    onStarted: (stop) => stops.push(stop),
  });
  const natsBin = ensureNatsBinary();
  say('running the tests');
  return runJest(
    [
      '--experimental-vm-modules',
      '--no-warnings=ExperimentalWarning',
      'node_modules/jest/bin/jest.js',
      '--json',
      `--outputFile=${results}`,
      '--forceExit',
      ...process.argv.slice(2),
    ],
    { ...process.env, TEST_DATABASE_URL: serverUrl, NATS_SERVER_BIN: natsBin },
  );
}

/**
 * Runs jest without blocking this process (so it hears signals) and resolves with its exit status.
 * Jest gets a process group of its own, so that a signal reaches its workers and what the tests started too.
 */
function runJest(args, env) {
  return new Promise((resolve) => {
    jest = spawn(process.execPath, args, { cwd: ROOT, stdio: 'inherit', env, detached: true });
    jest.on('error', (error) => (say(`jest stopped: ${error.message}`), resolve(1)));
    jest.on('exit', (code) => resolve(code ?? 1));
  });
}

/** The server of a database URL, as the tests need it: its `postgres` database, whichever one the URL names (the tests make their own). */
function serverOf(url) {
  if (!url) return undefined;
  const server = new URL(url);
  server.pathname = '/postgres';
  return server.toString();
}

/** Prints "N passed, N failed" from jest's results, or "0 passed, 1 failed" when there are none (or they cannot be read). */
function printSummary() {
  try {
    const summary = JSON.parse(readFileSync(results, 'utf8'));
    const failed = summary.numFailedTests + (summary.numRuntimeErrorTestSuites ?? 0);
    process.stdout.write(`${summary.numPassedTests} passed, ${failed} failed\n`);
  } catch {
    process.stdout.write('0 passed, 1 failed\n');
  }
}

// A stale results file must never be read as this run's.
mkdirSync(LOCAL, { recursive: true });
rmSync(results, { force: true });
let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => onSignal(signal));

/**
 * Stops jest first when it runs (the run then ends below, stopping what it started); a second
 * signal kills what is left of jest's group and stops at once; before jest, stops at once.
 */
function onSignal(signal) {
  const jestRuns = jest && jest.exitCode === null && jest.signalCode === null;
  if (jestRuns && !interrupted) {
    interrupted = true;
    signalJest(signal);
    return;
  }
  interrupted = true;
  if (jestRuns) signalJest('SIGKILL');
  void stopStarted().finally(() => (printSummary(), process.exit(1)));
}

/** Signals jest's whole process group (its workers, and the services and nats-servers the tests started); gone already is fine. */
function signalJest(signal) {
  try {
    process.kill(-jest.pid, signal);
  } catch (error) {
    if (error.code !== 'ESRCH') say(`could not stop jest: ${error.message}`);
  }
}

let status = 1;
try {
  status = await main();
} catch (error) {
  process.stderr.write(`\x1b[31m[portico] ${error.message}\x1b[0m\n`);
} finally {
  await stopStarted();
}
printSummary();
process.exit(interrupted ? 1 : status);

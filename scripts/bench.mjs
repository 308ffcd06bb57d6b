// `npm run bench`: builds, makes sure PostgreSQL and nats-server are there, then runs the
// benchmark groups (all, or those named: `npm run bench -- access`). Not part of npm test.
import { spawnSync } from 'node:child_process';
import { build, ensureDependencies, ensureNatsBinary, ensurePostgres, mayMovePostgres, ROOT } from './infra.mjs';

const chosenUrl = process.env.TEST_DATABASE_URL;
const stops = [];
ensureDependencies();
build();
const serverUrl = await ensurePostgres(chosenUrl ?? 'postgres://postgres@127.0.0.1:5432/postgres', {
  mayMove: mayMovePostgres(chosenUrl),
  onStarted: (stop) => stops.push(stop),
});
const natsBin = ensureNatsBinary();
const run = spawnSync(process.execPath, ['dist/bench/main.js', ...process.argv.slice(2)], {
  cwd: ROOT,
  stdio: 'inherit',
  env: { ...process.env, TEST_DATABASE_URL: serverUrl, NATS_SERVER_BIN: natsBin },
});
while (stops.length) await stops.pop()();
process.exit(run.status ?? 1);

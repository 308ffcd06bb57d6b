// `npm run bench`: builds, makes sure PostgreSQL and nats-server are there, then runs the
// benchmark groups (all, or those named: `npm run bench -- access`). Not part of npm test.
import { spawnSync } from 'node:child_process';
import { build, ensureDependencies, ensureNatsBinary, ensurePostgres, ROOT } from './infra.mjs';

const serverUrl = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
ensureDependencies();
build();
const stopPostgres = await ensurePostgres(serverUrl);
const natsBin = ensureNatsBinary();
const run = spawnSync(process.execPath, ['dist/bench/main.js', ...process.argv.slice(2)], {
  cwd: ROOT,
  stdio: 'inherit',
  env: { ...process.env, TEST_DATABASE_URL: serverUrl, NATS_SERVER_BIN: natsBin },
});
await stopPostgres();
process.exit(run.status ?? 1);

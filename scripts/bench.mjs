// `npm run bench [-- ID...]`: the benchmark scenarios of bench/scenarios (all, or those named), on
// this machine. Makes sure PostgreSQL answers and nats-server exists (as `npm test` does), builds,
// compiles bench/ and runs it; results go to bench/results.json and docs/BENCHMARKS.md.
import { execFileSync, spawnSync } from 'node:child_process';
import { build, ensureDependencies, ensureNatsBinary, ensurePostgres, ROOT, say } from './infra.mjs';

const serverUrl = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
ensureDependencies();
build();
say('compiling the benchmarks');
execFileSync(process.execPath, ['node_modules/@swc/cli/bin/swc.js', 'bench', '-d', 'dist', '--quiet'], { cwd: ROOT, stdio: 'inherit' });
const stopPostgres = await ensurePostgres(serverUrl);
const natsBin = ensureNatsBinary();
const run = spawnSync(process.execPath, ['dist/bench/run.js', ...process.argv.slice(2)], {
  cwd: ROOT,
  stdio: 'inherit',
  env: { ...process.env, TEST_DATABASE_URL: serverUrl, NATS_SERVER_BIN: natsBin },
});
await stopPostgres();
process.exit(run.status ?? 1);

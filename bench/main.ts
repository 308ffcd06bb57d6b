import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { runAccessBenchmarks } from './access.bench.js';
import { runIdentityBenchmarks } from './identity.bench.js';
import type { Scenario } from './lib/scenario.js';
import { scenario as mailThroughput } from './scenarios/m1-mail-throughput.js';
import { environment, type BenchResult } from './harness.js';

/** Every benchmark group, by name (`npm run bench -- access` runs one). */
const GROUPS: Record<string, () => Promise<BenchResult[]>> = {
  access: runAccessBenchmarks,
  identity: runIdentityBenchmarks,
  mail: () => fromScenario(mailThroughput),
};

/** Runs a scenario written against bench/lib/scenario.ts and turns its metrics into result rows (its prose goes below the table). */
async function fromScenario(scenario: Scenario): Promise<BenchResult[]> {
  const result = await scenario.run();
  return result.metrics.map((metric, index) => ({
    id: `${result.id}${result.metrics.length > 1 ? `.${index + 1}` : ''}`,
    scenario: `${result.title}: ${metric.name}`,
    value: metric.value,
    unit: metric.unit,
    details: { ...(metric.min !== undefined && { min: metric.min }), ...(metric.max !== undefined && { max: metric.max }) },
    ...(index === 0 && { markdown: `## ${result.id}: ${result.title}\n\n${result.markdown.trim()}\n` }),
  }));
}

const requested = process.argv.slice(2).filter((name) => name !== 'report');
const unknown = requested.filter((name) => !(name in GROUPS));
if (unknown.length > 0) {
  process.stderr.write(`bench: no group named ${unknown.join(', ')} (groups: ${Object.keys(GROUPS).join(', ')}, or report)\n`);
  process.exit(2);
}
const selected = requested;
// `npm run bench -- report` only rewrites docs/BENCHMARKS.md from bench/results.json.
const names = process.argv.includes('report') ? [] : selected.length > 0 ? selected : Object.keys(GROUPS);
const previous = existsSync('bench/results.json') ? (JSON.parse(readFileSync('bench/results.json', 'utf8')) as { results: BenchResult[] }).results : [];
const fresh: BenchResult[] = [];
for (const name of names) {
  process.stdout.write(`bench: ${name}\n`);
  // Where and when each row was measured: rows of different runs sit side by side in the report.
  const run = {
    ranAt: new Date().toISOString().slice(0, 16).replace('T', ' '),
    commit: String(environment().commit),
    loadAtStart: Number(loadavg()[0].toFixed(1)),
  };
  fresh.push(...(await GROUPS[name]()).map((result) => ({ ...result, run })));
}
const results = [...previous.filter((old) => !fresh.some((result) => result.id === old.id)), ...fresh].sort((a, b) => a.id.localeCompare(b.id));
const env = environment();
mkdirSync('bench', { recursive: true });
writeFileSync('bench/results.json', JSON.stringify({ environment: env, results }, null, 2));
writeFileSync('docs/BENCHMARKS.md', render(env, results));
for (const result of fresh)
  process.stdout.write(
    `${result.id.padEnd(28)} ${String(result.value).padStart(10)} ${result.unit.padEnd(12)} ${result.pass === undefined ? '' : result.pass ? 'PASS' : 'MISS'}  ${JSON.stringify(result.details ?? {})}\n`,
  );
process.exit(0);

function render(env: Record<string, string | number>, list: BenchResult[]): string {
  const rows = list.map(
    (r) =>
      `| ${r.id} | ${r.scenario} | ${r.value} ${r.unit} | ${r.target ?? ''} | ${r.pass === undefined ? '-' : r.pass ? 'yes' : '**no**'} | ${formatDetails(r.details)} | ${formatRun(r.run)} |`,
  );
  return [
    '# Benchmarks',
    '',
    'Written by `npm run bench` (see `bench/`); targets and method in the design document PERFORMANCE.md.',
    'Every ratio is measured against its baseline in the same run, one after the other, on the same',
    'machine; load comes from the bench process over loopback, bounded in time. Medians of 3 runs.',
    '',
    `Machine: ${env.cpus} x ${env.cpu}, Node ${env.node}. Written: ${env.date}, commit ${env.commit}. Each row keeps the last run of its`,
    'scenario (`npm run bench -- <group>` reruns one group: access, identity, mail; `bench/results.json` keeps them); the last column says',
    'when, at which commit, and how busy the machine was as the group started (1-minute load average; 2 cores: above ~1 other work shared them).',
    '',
    '| id | scenario | result | target | met | details | run |',
    '|---|---|---|---|---|---|---|',
    ...rows,
    '',
    ...list.flatMap((r) => (r.markdown ? [r.markdown] : [])),
  ].join('\n');
}

function formatRun(run: BenchResult['run']): string {
  return run ? `${run.ranAt}, ${run.commit}, load ${run.loadAtStart}` : '';
}

function formatDetails(details: Record<string, unknown> | undefined): string {
  return Object.entries(details ?? {})
    .map(([key, value]) => `${key}: ${Array.isArray(value) ? value.join('/') : String(value)}`)
    .join(', ');
}

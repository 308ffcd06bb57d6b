import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { format, resolveConfig } from 'prettier';
import { provenance, say, type Scenario, type ScenarioResult } from './lib/scenario.js';

/**
 * `npm run bench [ID...]`: runs every scenario of bench/scenarios (or those named), writes
 * bench/results.json and each scenario's section of docs/BENCHMARKS.md. Scenarios are
 * independent files, so adding one touches nothing else.
 */
const here = dirname(fileURLToPath(import.meta.url));
const root = process.cwd();
const wanted = process.argv.slice(2).map((id) => id.toUpperCase());
const files = readdirSync(join(here, 'scenarios'))
  .filter((name) => name.endsWith('.js'))
  .sort();

const scenarios: Scenario[] = [];
for (const file of files) {
  const module = (await import(join(here, 'scenarios', file))) as { scenario?: Scenario };
  if (module.scenario && (wanted.length === 0 || wanted.includes(module.scenario.id.toUpperCase()))) scenarios.push(module.scenario);
}
if (scenarios.length === 0) {
  say(`no scenario matches ${wanted.join(', ')}`);
  process.exit(1);
}

const where = provenance();
say(`${where.cores} cores (${where.cpus}), Node ${where.node}, commit ${where.commit}`);
const results: ScenarioResult[] = [];
for (const scenario of scenarios) {
  say(`${scenario.id}: ${scenario.title}`);
  results.push(await scenario.run());
}

const resultsFile = join(root, 'bench', 'results.json');
const previous = existsSync(resultsFile) ? (JSON.parse(readFileSync(resultsFile, 'utf8')) as Record<string, unknown>) : {};
const merged = { ...previous, ...Object.fromEntries(results.map((result) => [result.id, { ...result, provenance: where }])) };
writeFileSync(resultsFile, `${JSON.stringify(merged, null, 2)}\n`);

const docsFile = join(root, 'docs', 'BENCHMARKS.md');
mkdirSync(dirname(docsFile), { recursive: true });
let docs = existsSync(docsFile)
  ? readFileSync(docsFile, 'utf8')
  : '# Benchmarks\n\n`npm run bench` (or `npm run bench -- M1` for one scenario) measures and rewrites each section below.\n';
for (const result of results) {
  const section = [
    `<!-- bench:${result.id}:start -->`,
    `## ${result.id}: ${result.title}`,
    '',
    `Measured ${where.date.slice(0, 10)} on ${where.cores} cores (${where.cpus}), Node ${where.node}, commit ${where.commit}.`,
    '',
    result.markdown.trim(),
    `<!-- bench:${result.id}:end -->`,
  ].join('\n');
  const pattern = new RegExp(`<!-- bench:${result.id}:start -->[\\s\\S]*?<!-- bench:${result.id}:end -->`);
  docs = pattern.test(docs) ? docs.replace(pattern, section) : `${docs.trimEnd()}\n\n${section}\n`;
}
writeFileSync(docsFile, await format(docs, { ...(await resolveConfig(docsFile)), filepath: docsFile }));
for (const result of results) for (const metric of result.metrics) say(`${result.id} ${metric.name}: ${metric.value} ${metric.unit}`);
say('wrote bench/results.json and docs/BENCHMARKS.md');

import { execSync } from 'node:child_process';
import { cpus } from 'node:os';

/** One figure of a scenario. */
export interface Metric {
  name: string;
  /** Median of the runs. */
  value: number;
  unit: string;
  min?: number;
  max?: number;
}

/** What a scenario reports. */
export interface ScenarioResult {
  id: string;
  title: string;
  metrics: Metric[];
  /** Markdown written into docs/BENCHMARKS.md under the scenario's heading. */
  markdown: string;
  /** Anything else worth keeping in bench/results.json. */
  details?: Record<string, unknown>;
}

/** A benchmark scenario: `bench/scenarios/<id>.ts`, exporting `scenario`. */
export interface Scenario {
  id: string;
  title: string;
  run(): Promise<ScenarioResult>;
}

/** Where and when a result was measured (printed beside every figure). */
export interface Provenance {
  date: string;
  commit: string;
  node: string;
  cpus: string;
  cores: number;
}

/** The machine, the date and the commit. */
export function provenance(): Provenance {
  let commit = 'unknown';
  try {
    commit = execSync('git rev-parse --short HEAD', { stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
    if (
      execSync('git status --porcelain --untracked-files=no', { stdio: ['ignore', 'pipe', 'ignore'] })
        .toString()
        .trim()
    )
      commit += ' (with local changes)';
  } catch {
    // Not a git checkout: the commit stays unknown.
  }
  return { date: new Date().toISOString(), commit, node: process.version, cpus: cpus()[0]?.model ?? 'unknown', cores: cpus().length };
}

/** Median, min and max of some numbers. */
export function summary(values: number[]): { median: number; min: number; max: number } {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
  return { median, min: sorted[0], max: sorted[sorted.length - 1] };
}

/** Prints one line of progress. */
export function say(message: string): void {
  process.stdout.write(`[bench] ${message}\n`);
}

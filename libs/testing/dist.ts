import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** The project root (tests run from it). */
export const projectRoot = resolve(process.cwd());

/** A file of the build; whole-system tests run what `npm run build` made, as production does. */
export function distPath(relative: string): string {
  const path = join(projectRoot, 'dist', relative);
  if (!existsSync(path)) throw new Error(`${path} is missing: run \`npm run build\` (npm test does)`);
  return path;
}

/** What a built command-line tool did: its exit status (0 when it succeeded) and what it printed. */
export interface ToolRun {
  status: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs the built tool `dist/<tool>` with `args`, in an environment of `env` and PATH only (nothing
 * of the test process leaks into it), as an operator runs it; never rejects.
 */
export function runBuiltTool(tool: string, args: string[], env: Record<string, string>): Promise<ToolRun> {
  return new Promise((resolve) => {
    execFile(process.execPath, [distPath(tool), ...args], { env: { PATH: process.env.PATH ?? '', ...env } }, (error, stdout, stderr) => {
      resolve({ status: error ? Number(error.code) : 0, stdout, stderr });
    });
  });
}

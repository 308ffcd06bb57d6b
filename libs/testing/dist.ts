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

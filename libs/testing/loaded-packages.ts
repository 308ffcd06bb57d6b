import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { distPath } from './dist.js';

/** A module hook (run on the loader's thread) that writes the URL of every ES module loaded to the file in PROBE_LOG. */
const RECORD_LOADS = `import { appendFileSync } from 'node:fs';
export async function load(url, context, next) { appendFileSync(process.env.PROBE_LOG, url + '\\n'); return next(url, context); }`;
const REGISTER = `import { register } from 'node:module'; register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(RECORD_LOADS)}`)});`;

/**
 * The packages under node_modules (of `names`) that importing a built module loads, with all it
 * imports, in a process of its own: ES modules as a module hook sees them load, CommonJS ones
 * (TypeORM, node-postgres) from require's cache after the import.
 */
export async function packagesLoadedBy(module: string, names: string[]): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'portico-probe-'));
  const log = join(dir, 'loaded');
  const probe = `await import(${JSON.stringify(pathToFileURL(distPath(module)).href)});
    const { createRequire } = await import('node:module');
    process.stdout.write(JSON.stringify(Object.keys(createRequire(process.cwd() + '/').cache)));`;
  try {
    const commonJs = await new Promise<string[]>((resolve, reject) => {
      execFile(
        process.execPath,
        ['--import', `data:text/javascript,${encodeURIComponent(REGISTER)}`, '--input-type=module', '-e', probe],
        { env: { ...process.env, PROBE_LOG: log } },
        (error, stdout, stderr) => (error ? reject(new Error(stderr)) : resolve(JSON.parse(stdout) as string[])),
      );
    });
    const files = [...commonJs, ...readFileSync(log, 'utf8').split('\n')];
    const escaped = names.map((name) => name.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&'));
    const pattern = new RegExp(`/node_modules/(${escaped.join('|')})/`);
    return [...new Set(files.flatMap((file) => pattern.exec(file)?.[1] ?? []))].sort();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

import { execFile } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { distPath } from '#libs/testing/dist.js';

/**
 * The CommonJS files under node_modules that importing a built module loads, with all it imports,
 * in a process of its own (TypeORM and node-postgres are CommonJS: Node keeps them in require's cache).
 */
function commonJsLoadedBy(module: string): Promise<string[]> {
  const probe = `await import(${JSON.stringify(pathToFileURL(distPath(module)).href)});
    const { createRequire } = await import('node:module');
    process.stdout.write(JSON.stringify(Object.keys(createRequire(process.cwd() + '/').cache)));`;
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--input-type=module', '-e', probe], (error, stdout, stderr) =>
      error ? reject(new Error(stderr)) : resolve(JSON.parse(stdout) as string[]),
    );
  });
}

const databasePackages = (files: string[]) => [...new Set(files.flatMap((file) => /\/node_modules\/(typeorm|pg)\//.exec(file)?.[1] ?? []))].sort();

describe('the gateway, which has no database', () => {
  it('never loads TypeORM or node-postgres (the database side of libs/platform is imported apart, from storage.ts)', async () => {
    expect(databasePackages(await commonJsLoadedBy('apps/gateway/src/gateway.module.js'))).toEqual([]);
  });

  it('while a service with a database loads TypeORM (what the probe sees; node-postgres waits for the connection)', async () => {
    expect(databasePackages(await commonJsLoadedBy('apps/identity/src/identity.module.js'))).toEqual(['typeorm']);
  });
});

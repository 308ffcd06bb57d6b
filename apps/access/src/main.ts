import { loadConfigOrExit, runService } from '#libs/platform/index.js';
import { accessEnv } from './access.config.js';
import { AccessModule } from './access.module.js';
import { CatalogError } from './catalog/catalog.js';
import { loadCatalog } from './catalog/catalog.loader.js';

const config = loadConfigOrExit('access', accessEnv);
const catalog = loadCatalogOrExit(config.ACCESS_CATALOG);
await runService({ name: 'access', config, module: (runtime) => AccessModule.forRoot(config, runtime, catalog) });

function loadCatalogOrExit(nameOrPath: string) {
  try {
    return loadCatalog(nameOrPath);
  } catch (error) {
    process.stderr.write(`[access] ${error instanceof CatalogError ? error.message : (error as Error).message}\n`);
    process.exit(78);
  }
}

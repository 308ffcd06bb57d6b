import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseCatalog, type Catalog } from './catalog.js';

/** The catalogues shipped with Portico (copied beside the build by `npm run build`). */
export const SHIPPED_CATALOGS = ['voximplant', 'workspace'] as const;

/** The folder of the shipped catalogue files. */
export function shippedCatalogDir(): string {
  return fileURLToPath(new URL('../../catalogs/', import.meta.url));
}

/** Loads `ACCESS_CATALOG`: a shipped name, or a path to a YAML file. */
export function loadCatalog(nameOrPath: string): Catalog {
  const path = (SHIPPED_CATALOGS as readonly string[]).includes(nameOrPath) ? `${shippedCatalogDir()}${nameOrPath}.yaml` : nameOrPath;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new Error(`Cannot read the access catalogue ${path}: ${(error as Error).message}`);
  }
  return parseCatalog(text, path);
}

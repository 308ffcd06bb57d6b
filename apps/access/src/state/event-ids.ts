import { isUUID } from 'class-validator';
import { PermanentEventError } from '#libs/platform/index.js';

/**
 * The ids an event of identity names, lower-cased as every subject of access takes them (the
 * account's lock and its key in memory are the lower-cased id). Identity writes them so; access
 * validates what it is sent, whoever sent it. Throws {@link PermanentEventError} naming the first
 * field that is not a UUID: the event could never be applied, and is dropped rather than retried.
 */
export function withCanonicalIds<D extends object>(data: D, fields: ReadonlyArray<keyof D & string>): D {
  const canonical = { ...data } as Record<string, unknown>;
  for (const field of fields) {
    const value = canonical[field];
    if (typeof value !== 'string' || !isUUID(value)) throw new PermanentEventError(`An event whose ${field} is not a UUID`);
    canonical[field] = value.toLowerCase();
  }
  return canonical as D;
}

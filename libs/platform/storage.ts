// What a service that owns a database schema imports besides index.ts: TypeORM and its helpers,
// kept out of index.ts so that the gateway, which has no database, never loads TypeORM (~10 MiB of
// its memory and a sixth of its start-up), nor does a test that needs none.
export * from './database.js';
export * from './database-readiness.js';
export * from './migration-locks.js';

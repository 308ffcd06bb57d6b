import { InitialAccess1732300000000 } from './1732300000000-initial-access.js';

/** The access schema's migrations, oldest first. */
export const accessMigrations = [InitialAccess1732300000000];

import { InitialIdentity1732300000000 } from './1732300000000-initial-identity.js';

/** The identity schema's migrations, oldest first. */
export const identityMigrations = [InitialIdentity1732300000000];

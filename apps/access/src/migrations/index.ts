import { InitialAccess1732300000000 } from './1732300000000-initial-access.js';
import { RolesBindingsApplications1732400000000 } from './1732400000000-roles-bindings-applications.js';
import { AccountVersions1732900000000 } from './1732900000000-account-versions.js';
import { OwnerVersion1733100000000 } from './1733100000000-owner-version.js';
import { PrincipalActivity1733200000000 } from './1733200000000-principal-activity.js';
import { Outbox1733400000000 } from './1733400000000-outbox.js';
import { OwnersHoldNoBindings1734100000000 } from './1734100000000-owners-hold-no-bindings.js';
import { ClosedAccounts1734500000000 } from './1734500000000-closed-accounts.js';
import { OutboxSetAside1734800000000 } from './1734800000000-outbox-set-aside.js';
import { ServiceAccountPrincipals1735300000000 } from './1735300000000-service-account-principals.js';

/** The access schema's migrations, oldest first. */
export const accessMigrations = [
  InitialAccess1732300000000,
  RolesBindingsApplications1732400000000,
  AccountVersions1732900000000,
  OwnerVersion1733100000000,
  PrincipalActivity1733200000000,
  Outbox1733400000000,
  OwnersHoldNoBindings1734100000000,
  ClosedAccounts1734500000000,
  OutboxSetAside1734800000000,
  ServiceAccountPrincipals1735300000000,
];

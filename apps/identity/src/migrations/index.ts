import { InitialIdentity1732300000000 } from './1732300000000-initial-identity.js';
import { PeopleCredentialsSessions1732400000000 } from './1732400000000-people-credentials-sessions.js';
import { HousekeepingIndexes1732500000000 } from './1732500000000-housekeeping-indexes.js';
import { ThrottleFunctions1732600000000 } from './1732600000000-throttle-functions.js';
import { UserTableCoveringIndexes1732700000000 } from './1732700000000-user-table-covering-indexes.js';
import { ThrottleSucceededInKeyOrder1732800000000 } from './1732800000000-throttle-succeeded-in-key-order.js';
import { OwnerVersion1733100000000 } from './1733100000000-owner-version.js';
import { AnnounceInactivePrincipals1733200000000 } from './1733200000000-announce-inactive-principals.js';
import { AuditAccessTargets1733400000000 } from './1733400000000-audit-access-targets.js';
import { RequestKeys1733500000000 } from './1733500000000-request-keys.js';
import { EmailChangeLinks1733600000000 } from './1733600000000-email-change-links.js';
import { TwoStepSignIn1733700000000 } from './1733700000000-two-step-sign-in.js';
import { SignInChallengeExpiry1733800000000 } from './1733800000000-sign-in-challenge-expiry.js';
import { SecondStepPolicy1733900000000 } from './1733900000000-second-step-policy.js';
import { SessionUserAgent1734000000000 } from './1734000000000-session-user-agent.js';
import { MembershipInvitations1734200000000 } from './1734200000000-membership-invitations.js';
import { SessionAccessExpiry1734300000000 } from './1734300000000-session-access-expiry.js';
import { CappedSortName1734400000000 } from './1734400000000-capped-sort-name.js';
import { OutboxSetAside1734900000000 } from './1734900000000-outbox-set-aside.js';
import { SecondStepBlock1735000000000 } from './1735000000000-second-step-block.js';
import { SecondStepLost1735100000000 } from './1735100000000-second-step-lost.js';
import { SubuserSearch1735200000000 } from './1735200000000-subuser-search.js';
import { AuditFeed1735300000000 } from './1735300000000-audit-feed.js';
import { RoleProjection1735400000000 } from './1735400000000-role-projection.js';
import { ServiceAccounts1735500000000 } from './1735500000000-service-accounts.js';

/** The identity schema's migrations, oldest first. */
export const identityMigrations = [
  InitialIdentity1732300000000,
  PeopleCredentialsSessions1732400000000,
  HousekeepingIndexes1732500000000,
  ThrottleFunctions1732600000000,
  UserTableCoveringIndexes1732700000000,
  ThrottleSucceededInKeyOrder1732800000000,
  OwnerVersion1733100000000,
  AnnounceInactivePrincipals1733200000000,
  AuditAccessTargets1733400000000,
  RequestKeys1733500000000,
  EmailChangeLinks1733600000000,
  TwoStepSignIn1733700000000,
  SignInChallengeExpiry1733800000000,
  SecondStepPolicy1733900000000,
  SessionUserAgent1734000000000,
  MembershipInvitations1734200000000,
  SessionAccessExpiry1734300000000,
  CappedSortName1734400000000,
  OutboxSetAside1734900000000,
  SecondStepBlock1735000000000,
  SecondStepLost1735100000000,
  SubuserSearch1735200000000,
  AuditFeed1735300000000,
  RoleProjection1735400000000,
  ServiceAccounts1735500000000,
];

import {
  ACCESS_CHANGED,
  DurableConsumers,
  ACCESS_EVENTS,
  EVENTS_STREAM,
  EVENTS_SUBJECT_PREFIX,
  Events,
  eventSubject,
  ACCOUNT_EVENTS,
  IDENTITY_EVENTS,
  SECOND_STEP_POLICY_CHANGED,
  SESSIONS_REVOKED,
  Subjects,
  SUSPENSION_CHANGED,
} from '#libs/contracts/index.js';
import { inboxPrefixOf } from '#libs/platform/nats-connection.js';

/**
 * The least NATS privilege of each service, as data: what it may publish and subscribe to.
 * A service that holds only its own user cannot act as another: the gateway cannot publish
 * events, notifications cannot call identity, nobody but identity can answer `identity.*`, and
 * nobody reads another service's replies (each has its own inbox prefix, `_INBOX.<service>`).
 * `tools/nats-permissions.ts` prints it as nats-server configuration (deploy/nats/).
 */

/** The four services, each its own NATS user. */
export const NATS_SERVICES = ['gateway', 'identity', 'access', 'notifications'] as const;
/** One of {@link NATS_SERVICES}. */
export type NatsService = (typeof NATS_SERVICES)[number];

/** What one NATS user may do. */
export interface NatsPermissions {
  /** Subjects it may publish to (requests, broadcasts, events, JetStream API calls and acks). */
  publish: string[];
  /** Subjects it may subscribe to (the requests it serves, broadcasts it hears, its own inbox). */
  subscribe: string[];
  /** May answer each request it received, once, on the request's reply subject (the server's `allow_responses`). */
  allowResponses: boolean;
}

/** The request/reply subjects a service serves (in its queue group, named after it). */
export function servedSubjects(service: NatsService): string[] {
  return Object.values(Subjects).filter((subject) => subject.startsWith(`${service}.`));
}

/**
 * The JetStream API calls that check, create or update the events stream (every service that uses
 * it makes sure it exists, and has its replicas, retention and duplicate window: `ensureEventsStream`).
 */
const EVENTS_STREAM_API = [
  '$JS.API.INFO',
  `$JS.API.STREAM.INFO.${EVENTS_STREAM}`,
  `$JS.API.STREAM.CREATE.${EVENTS_STREAM}`,
  `$JS.API.STREAM.UPDATE.${EVENTS_STREAM}`,
];

/**
 * Deleting one message of the events stream by its sequence: notifications deletes each event that
 * carries a plain link token once it is done with it. The stream's name is part of the subject;
 * which message is not (NATS cannot narrow it further).
 */
export const EVENTS_MESSAGE_DELETE = `$JS.API.STREAM.MSG.DELETE.${EVENTS_STREAM}`;

/**
 * The JetStream API calls of one durable consumer: created (or updated) with its filter only (the
 * filter is part of the subject, so it cannot be widened), looked up, pulled from, acknowledged.
 * Needs NATS 2.9 or later (the consumer-create subject with the filter).
 */
function durableConsumer(name: string, filterSubject: string): string[] {
  const api = `$JS.API.CONSUMER`;
  return [
    `${api}.CREATE.${EVENTS_STREAM}.${name}.${filterSubject}`,
    `${api}.INFO.${EVENTS_STREAM}.${name}`,
    `${api}.MSG.NEXT.${EVENTS_STREAM}.${name}`,
    `$JS.ACK.${EVENTS_STREAM}.${name}.>`,
  ];
}

/** Where a service's own replies arrive (requests it sent, JetStream's answers, pulled events). */
function ownInbox(service: NatsService): string {
  return `${inboxPrefixOf(service)}.>`;
}

/** Subjects one service asks another, never the gateway: every account's role holdings, identity's backfill of its role projection. */
const BETWEEN_SERVICES: readonly string[] = [Subjects.AccessRoleHoldingsPage];

/** The subjects a service serves that the gateway may send (all but {@link BETWEEN_SERVICES}). */
function servedToGateway(service: NatsService): string[] {
  return servedSubjects(service).filter((subject) => !BETWEEN_SERVICES.includes(subject));
}

/** Every service's permissions. */
export const NATS_PERMISSIONS: Record<NatsService, NatsPermissions> = {
  gateway: {
    // Every request/reply subject of the three services (it is their only HTTP front) but those between services; no event, no broadcast.
    publish: [...servedToGateway('identity'), ...servedToGateway('access'), ...servedToGateway('notifications')],
    subscribe: [ownInbox('gateway'), ACCESS_CHANGED, SESSIONS_REVOKED, SUSPENSION_CHANGED, SECOND_STEP_POLICY_CHANGED],
    allowResponses: false,
  },
  identity: {
    publish: [
      SESSIONS_REVOKED,
      SUSPENSION_CHANGED,
      SECOND_STEP_POLICY_CHANGED,
      `${EVENTS_SUBJECT_PREFIX}identity.>`,
      ...EVENTS_STREAM_API,
      ...durableConsumer(DurableConsumers.AccessAudit, ACCESS_EVENTS),
      Subjects.AccessRoleHoldingsPage,
    ],
    subscribe: [...servedSubjects('identity'), ownInbox('identity')],
    allowResponses: true,
  },
  access: {
    publish: [
      ACCESS_CHANGED,
      `${EVENTS_SUBJECT_PREFIX}access.>`,
      ...EVENTS_STREAM_API,
      ...durableConsumer(DurableConsumers.Owners, ACCOUNT_EVENTS),
      ...durableConsumer(DurableConsumers.Principals, eventSubject(Events.PrincipalActivityChanged)),
    ],
    // access.changed: its replicas hear each other's changes.
    subscribe: [...servedSubjects('access'), ACCESS_CHANGED, ownInbox('access')],
    allowResponses: true,
  },
  notifications: {
    // access.check: the delivery log shows recipients only to who may read members.
    // The message delete: the link events it mailed leave the stream (their plain tokens with them).
    publish: [Subjects.AccessCheck, ...EVENTS_STREAM_API, EVENTS_MESSAGE_DELETE, ...durableConsumer(DurableConsumers.Mail, IDENTITY_EVENTS)],
    subscribe: [...servedSubjects('notifications'), ownInbox('notifications')],
    allowResponses: true,
  },
};

/** The NATS user name of a service. */
export function natsUserOf(service: NatsService): string {
  return `portico-${service}`;
}

/** The environment variable that holds a service's NATS password in {@link NATS_USERS_CONFIG} (the server reads `$NAME`). */
export function natsPasswordVariableOf(service: NatsService): string {
  return `PORTICO_${service.toUpperCase()}_NATS_PASSWORD`;
}

/** A NATS user besides the services' own, with its password as it goes into the file (a test's, say). */
export interface ExtraNatsUser {
  user: string;
  password: string;
  permissions: NatsPermissions;
}

/**
 * The nats-server `authorization` block with one user per service (and `extraUsers`). `password`
 * gives each service's password as it goes into the file: a quoted literal, or an unquoted
 * `$VARIABLE` the server reads from its environment.
 */
export function natsAuthorizationConfig(
  password: (service: NatsService) => string = (service) => `$${natsPasswordVariableOf(service)}`,
  extraUsers: ExtraNatsUser[] = [],
): string {
  const services = NATS_SERVICES.map((service) => userBlock(natsUserOf(service), password(service), NATS_PERMISSIONS[service]));
  const extras = extraUsers.map(({ user, password: secret, permissions }) => userBlock(user, secret, permissions));
  return ['authorization {', '  users: [', ...services, ...extras, '  ]', '}', ''].join('\n');
}

function userBlock(user: string, password: string, permissions: NatsPermissions): string {
  const list = (subjects: string[]) => subjects.map((subject) => `          ${JSON.stringify(subject)}`).join('\n');
  return [
    '    {',
    `      user: ${JSON.stringify(user)}`,
    `      password: ${password}`,
    '      permissions: {',
    '        publish: { allow: [',
    list(permissions.publish),
    '        ] }',
    '        subscribe: { allow: [',
    list(permissions.subscribe),
    '        ] }',
    ...(permissions.allowResponses ? ['        allow_responses: true'] : []),
    '      }',
    '    }',
  ].join('\n');
}

/** The whole of deploy/nats/portico-users.conf: what it is, then {@link natsAuthorizationConfig} with passwords from the server's environment. */
export function natsUsersConfigFile(): string {
  const header = [
    '# Portico: one NATS user per service, each allowed only what it needs (docs/deploy.md).',
    '# Generated from tools/nats/permissions.ts by `node dist/tools/nats-permissions.js`; do not edit.',
    '# The server reads the passwords from its environment:',
    ...NATS_SERVICES.map((service) => `#   ${natsPasswordVariableOf(service)} (user ${natsUserOf(service)})`),
    '',
  ];
  return header.join('\n') + natsAuthorizationConfig();
}

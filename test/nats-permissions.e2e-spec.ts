import { randomBytes } from 'node:crypto';
import { connect, type NatsConnection, PermissionViolationError } from '@nats-io/transport-node';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { DurableConsumers, EVENTS_STREAM, eventSubject, Events, IDENTITY_EVENTS, Subjects } from '#libs/contracts/index.js';
import { inboxPrefixOf } from '#libs/platform/nats-connection.js';
import { eventually } from '#libs/testing/eventually.js';
import { TestSystem } from '#libs/testing/system.js';
import {
  EVENTS_MESSAGE_DELETE,
  NATS_PERMISSIONS,
  NATS_SERVICES,
  natsAuthorizationConfig,
  natsUserOf,
  type ExtraNatsUser,
  type NatsService,
} from '../tools/nats/permissions.js';
import { bearer, People, type SignedIn } from './helpers/people.js';

/**
 * The whole system on a nats-server with one user per service, each allowed exactly what
 * tools/nats/permissions.ts grants it (deploy/nats/portico-users.conf): everything works through
 * HTTP, and a service's credentials do not let anyone act as another service. Last, notifications
 * runs under a user of its own without the message delete (an operator who has not merged it yet).
 */

const passwords = Object.fromEntries(NATS_SERVICES.map((service) => [service, randomBytes(16).toString('hex')])) as Record<NatsService, string>;
/** Notifications' user as the permissions before it deleted link events granted it: all but the message delete. */
const notificationsBefore: ExtraNatsUser = {
  user: 'portico-notifications-before',
  password: randomBytes(16).toString('hex'),
  permissions: { ...NATS_PERMISSIONS.notifications, publish: NATS_PERMISSIONS.notifications.publish.filter((subject) => subject !== EVENTS_MESSAGE_DELETE) },
};
const system = new TestSystem({
  env: { ACCESS_CATALOG: 'workspace' },
  nats: {
    config: natsAuthorizationConfig(
      (service) => JSON.stringify(passwords[service]),
      [{ ...notificationsBefore, password: JSON.stringify(notificationsBefore.password) }],
    ),
  },
  serviceEnv: Object.fromEntries(NATS_SERVICES.map((service) => [service, { NATS_USER: natsUserOf(service), NATS_PASSWORD: passwords[service] }])),
});
const people = new People(system);
const connections: NatsConnection[] = [];

beforeAll(() => system.start());
afterAll(async () => {
  await Promise.all(connections.map((connection) => connection.close()));
  await system.stop();
});

/** A connection with the NATS user (and inbox prefix) of `service`, as a process holding its credentials would have. */
async function connectAs(service: NatsService): Promise<NatsConnection> {
  const connection = await connect({ servers: system.nats.url, user: natsUserOf(service), pass: passwords[service], inboxPrefix: inboxPrefixOf(service) });
  connections.push(connection);
  return connection;
}

/** The permissions violation a refused request fails with (nats.js wraps it in a RequestError). */
async function refusalOf(sending: Promise<unknown>): Promise<PermissionViolationError> {
  const error: unknown = await sending.then(
    () => undefined,
    (failure: unknown) => failure,
  );
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
  if (!(cause instanceof PermissionViolationError)) throw new Error(`expected a permissions violation, got ${String(error)}`);
  return cause;
}

/** One connection with notifications' user, to look at the events stream and the mail consumer as notifications may. */
let lookout: Promise<NatsConnection> | undefined;
const lookoutConnection = () => (lookout ??= connectAs('notifications'));

/** How many messages of each subject under `events.identity.>` the events stream holds. */
async function identityEventsInStream(): Promise<Record<string, number>> {
  const manager = await jetstreamManager(await lookoutConnection());
  return (await manager.streams.info(EVENTS_STREAM, { subjects_filter: IDENTITY_EVENTS })).state.subjects ?? {};
}

/** Notifications' durable consumer, as the server sees it. */
async function mailConsumer() {
  return (await jetstreamManager(await lookoutConnection())).consumers.info(EVENTS_STREAM, DurableConsumers.Mail);
}

/** Resolves once notifications' consumer has nothing left to deliver or to see acknowledged. */
async function mailConsumerIdle(): Promise<void> {
  await eventually('the mail consumer to be idle', async () => {
    const info = await mailConsumer();
    return info.num_pending === 0 && info.num_ack_pending === 0;
  });
}

/** A request in the services' wire format (Nest's packet). */
const packet = (subject: string, data: unknown) => JSON.stringify({ pattern: subject, data, id: 'permissions-test' });

describe('every service under its own least-privileged NATS user', () => {
  let owner: SignedIn;
  let viewer: SignedIn;
  const account = () => `/v1/accounts/${owner.accountId}`;
  const check = (who: SignedIn, action: string) =>
    people.http.post(`${account()}/access/check`).set(bearer(who.accessToken)).send({ section: 'agents', action }).expect(200);

  it('signs up, activates from the mail and signs in; reads its permissions', async () => {
    owner = await people.signUp('least');
    const permissions = await people.http.get(`${account()}/permissions`).set(bearer(owner.accessToken)).expect(200);
    expect(permissions.body.grants).toContainEqual({ section: 'members', actions: ['read', 'write', 'delete'] });
  });

  it('takes the invitation out of the events stream once it is mailed (the message delete notifications may publish); the account event stays', async () => {
    const invited = eventSubject(Events.UserInvited);
    await eventually('the mailed invitation to leave the stream', async () => !(await identityEventsInStream())[invited]);
    expect((await identityEventsInStream())[eventSubject(Events.AccountCreated)]).toBe(1);
  });

  it('adds a member with a role, who activates from the mail and is refused what the role does not grant', async () => {
    viewer = await people.member(owner, 'viewer@least.test', 'Viewer');
    expect((await check(viewer, 'write')).body).toEqual({ allowed: false });
    expect((await check(viewer, 'read')).body).toEqual({ allowed: true });
  });

  it('creates a subuser that signs in on the account page', async () => {
    const password = 'amber lantern over still water';
    await people.http
      .post(`${account()}/subusers`)
      .set(bearer(owner.accessToken))
      .send({ login: 'desk', password, roles: ['Viewer'] })
      .expect(201);
    await people.http.post('/v1/auth/subuser-login').send({ account: 'least', login: 'desk', password }).expect(200);
  });

  it("records access's changes in the audit trail (access's events, consumed by identity)", async () => {
    await people.http
      .post(`${account()}/roles`)
      .set(bearer(owner.accessToken))
      .send({ name: 'Reviewer', grants: [{ section: 'agents', actions: ['read'] }] })
      .expect(201);
    await eventually('role.created in the audit trail', async () => {
      const audit = await people.http.get(`${account()}/audit-events`).query({ action: 'role.created' }).set(bearer(owner.accessToken)).expect(200);
      return audit.body.items.length === 1;
    });
  });

  it('shows the delivery log (notifications asks access)', async () => {
    const log = await people.http.get(`${account()}/deliveries`).set(bearer(owner.accessToken)).expect(200);
    expect(log.body.items.length).toBeGreaterThanOrEqual(2);
  });

  it('enforces a role change on the next request, and ended sessions at once (broadcasts to the gateway)', async () => {
    await people.http.patch(`${account()}/users/${viewer.userId}`).set(bearer(owner.accessToken)).send({ role: 'Editor' }).expect(200);
    expect((await check(viewer, 'write')).body).toEqual({ allowed: true });
    await people.http.delete(`${account()}/users/${viewer.userId}/sessions`).set(bearer(owner.accessToken)).expect(200);
    await people.http.post(`${account()}/access/check`).set(bearer(viewer.accessToken)).send({ section: 'agents', action: 'read' }).expect(401);
  });

  it('logged no refusal by NATS in any service', () => {
    for (const [name, lines] of system.logs)
      expect({ name, refused: lines.filter((line) => /NATS refused|Permissions Violation/i.test(line)) }).toEqual({ name, refused: [] });
  });
});

describe("what a service's NATS credentials do not allow", () => {
  it("the gateway's user may call identity.users.create (identity answers)", async () => {
    const gateway = await connectAs('gateway');
    const reply = await gateway.request(Subjects.UsersCreate, packet(Subjects.UsersCreate, {}), { timeout: 5000 });
    expect(reply.json<{ err: { code: string } }>().err.code).toBe('VALIDATION_FAILED');
  });

  it("notifications' user may not: NATS refuses the request", async () => {
    const notifications = await connectAs('notifications');
    const refusal = await refusalOf(notifications.request(Subjects.UsersCreate, packet(Subjects.UsersCreate, {}), { timeout: 5000 }));
    expect({ operation: refusal.operation, subject: refusal.subject }).toEqual({ operation: 'publish', subject: Subjects.UsersCreate });
  });

  it.each(['gateway', 'notifications'] as const)('%s may not publish an event into the events stream', async (service) => {
    const connection = await connectAs(service);
    const refusal = await refusalOf(jetstream(connection).publish(eventSubject(Events.UserInvited), '{}', { timeout: 5000 }));
    expect({ operation: refusal.operation, subject: refusal.subject }).toEqual({ operation: 'publish', subject: eventSubject(Events.UserInvited) });
  });

  it('notifications may neither take requests meant for identity nor read the replies the gateway gets', async () => {
    const notifications = await connectAs('notifications');
    for (const subject of [Subjects.UsersCreate, `${inboxPrefixOf('gateway')}.>`]) {
      const subscription = notifications.subscribe(subject);
      await expect(subscription.closed).resolves.toBeInstanceOf(PermissionViolationError);
    }
  });
});

describe('notifications under a NATS user without the message delete (permissions merged after the upgrade)', () => {
  const total = (counts: Record<string, number>) => Object.values(counts).reduce((sum, count) => sum + count, 0);

  it('mails a reset link once and acknowledges its event, delivered once; the refused delete is a warning, and the event stays in the stream', async () => {
    await system.stopService('notifications');
    const replica = 'notifications#before';
    system.startService(replica, { NATS_USER: notificationsBefore.user, NATS_PASSWORD: notificationsBefore.password });
    await mailConsumerIdle();
    const [deliveredBefore, eventsBefore] = [(await mailConsumer()).delivered.consumer_seq, total(await identityEventsInStream())];

    const email = 'owner@least.test'; // the owner the first tests signed up
    await people.http.post('/v1/auth/password-reset').send({ email }).expect(202);
    const mail = await people.nthMail(email, (candidate) => candidate.links.some((link) => link.includes('/reset-password?')));
    await eventually('the refused delete to be logged', () => (system.logs.get(replica) ?? []).some((line) => line.includes('Could not delete a link event')));
    await mailConsumerIdle();

    // Every identity event since (the reset, nothing deleted) was delivered once: acknowledged, never again.
    const counts = await identityEventsInStream();
    expect((await mailConsumer()).delivered.consumer_seq - deliveredBefore).toBe(total(counts) - eventsBefore);
    expect(counts[eventSubject(Events.PasswordResetRequested)]).toBe(1);
    expect(system.mail.mails.filter((caught) => caught.messageId === mail.messageId)).toHaveLength(1);
  });
});

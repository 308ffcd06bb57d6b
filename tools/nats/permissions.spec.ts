import { readFileSync } from 'node:fs';
import { EVENTS_STREAM, Subjects } from '#libs/contracts/index.js';
import { NATS_PERMISSIONS, NATS_SERVICES, natsUsersConfigFile, servedSubjects } from './permissions.js';

describe('the NATS permissions of the services', () => {
  it('deploy/nats/portico-users.conf is what tools/nats/permissions.ts generates', () => {
    expect(readFileSync('deploy/nats/portico-users.conf', 'utf8')).toBe(natsUsersConfigFile());
  });

  it('serve every request/reply subject by exactly one service, which alone may subscribe to it', () => {
    for (const subject of Object.values(Subjects)) {
      const subscribers = NATS_SERVICES.filter((service) => NATS_PERMISSIONS[service].subscribe.includes(subject));
      expect({ subject, subscribers }).toEqual({ subject, subscribers: [subject.split('.')[0]] });
    }
  });

  it('let only identity and access publish events, each only its own', () => {
    const publishers = NATS_SERVICES.map((service) => [service, NATS_PERMISSIONS[service].publish.filter((subject) => subject.startsWith('events.'))]);
    expect(publishers).toEqual([
      ['gateway', []],
      ['identity', ['events.identity.>']],
      ['access', ['events.access.>']],
      ['notifications', []],
    ]);
  });

  it('let notifications call access.check only', () => {
    const calls = NATS_PERMISSIONS.notifications.publish.filter((subject) => !subject.startsWith('$JS.'));
    expect(calls).toEqual([Subjects.AccessCheck]);
  });

  it('let only notifications delete messages of the events stream (the link events it mailed), and nothing wider: no other stream, no purge, no stream delete', () => {
    const deleters = NATS_SERVICES.map((service) => [service, NATS_PERMISSIONS[service].publish.filter((subject) => /DELETE|PURGE/.test(subject))]);
    expect(deleters).toEqual([
      ['gateway', []],
      ['identity', []],
      ['access', []],
      ['notifications', [`$JS.API.STREAM.MSG.DELETE.${EVENTS_STREAM}`]],
    ]);
  });

  it('let the gateway call the services, and nothing else', () => {
    const served = [...servedSubjects('identity'), ...servedSubjects('access'), ...servedSubjects('notifications')];
    // Every account's role holdings are identity's to ask (its role projection's backfill), not the gateway's.
    expect(NATS_PERMISSIONS.gateway.publish).toEqual(served.filter((subject) => subject !== Subjects.AccessRoleHoldingsPage));
    expect(NATS_PERMISSIONS.identity.publish).toContain(Subjects.AccessRoleHoldingsPage);
    expect(NATS_PERMISSIONS.gateway.allowResponses).toBe(false);
  });

  it("grant no wildcard over all subjects, and no inbox but the service's own", () => {
    for (const service of NATS_SERVICES) {
      const { publish, subscribe } = NATS_PERMISSIONS[service];
      expect([...publish, ...subscribe].filter((subject) => subject === '>' || subject.startsWith('_INBOX.>') || subject.startsWith('$JS.API.>'))).toEqual([]);
      expect(subscribe.filter((subject) => subject.startsWith('_INBOX.'))).toEqual([`_INBOX.${service}.>`]);
    }
  });
});

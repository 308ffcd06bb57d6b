import { DomainError } from '#libs/errors/index.js';
import { decodeCursor, encodeCursor, toView } from './delivery-log.service.js';
import type { PagedDelivery } from './delivery.store.js';
import { readEvent } from './mail-consumer.js';

const row: PagedDelivery = {
  id: '3f1f7b0e-2a10-4a51-9b8e-7f0c3d3e8d5c',
  eventId: '0b7e9a52-5f0e-4a53-b3c4-1a2b3c4d5e6f',
  eventType: 'identity.user.invited',
  accountId: '7f0c3d3e-8d5c-4a51-9b8e-3f1f7b0e2a10',
  recipient: 'ada@example.com',
  template: 'activation',
  locale: 'en',
  status: 'failed',
  attempts: 1,
  lastError: '550 5.1.1 <ada@example.com>: no such user',
  messageId: '<0b7e9a52-5f0e-4a53-b3c4-1a2b3c4d5e6f@portico.test>',
  createdAt: new Date('2026-11-22T10:00:00.000Z'),
  updatedAt: new Date('2026-11-22T10:00:01.000Z'),
  lastAttemptAt: new Date('2026-11-22T10:00:01.000Z'),
  nextAttemptAt: null,
  leaseUntil: null,
  sentAt: null,
  position: '2026-11-22T10:00:00.123456Z',
};

describe('a delivery log line', () => {
  it('shows the address to those who may read members', () => {
    expect(toView(row, true)).toMatchObject({ recipient: 'ada@example.com', lastError: '550 5.1.1 <ada@example.com>: no such user' });
  });

  it('masks the address, also inside the error, for the others', () => {
    const view = toView(row, false);
    expect(view.recipient).toBe('a***@example.com');
    expect(view.lastError).toBe('550 5.1.1 <a***@example.com>: no such user');
    expect(JSON.stringify(view)).not.toContain('ada@');
  });

  it('shows the next attempt only for pending mails', () => {
    const next = new Date('2026-11-22T10:05:00.000Z');
    expect(toView({ ...row, status: 'pending', nextAttemptAt: next }, true).nextAttemptAt).toBe(next.toISOString());
    expect(toView({ ...row, status: 'sent', nextAttemptAt: next }, true).nextAttemptAt).toBeNull();
  });
});

describe('cursors', () => {
  it('come back as they were given, to the microsecond', () => {
    expect(decodeCursor(encodeCursor(row))).toEqual({ createdAt: row.position, id: row.id });
  });

  it.each(['', 'abc', Buffer.from('2026-11-22|x').toString('base64url'), Buffer.from(`2026-11-22T10:00:00Z|${row.id}`).toString('base64url')])(
    'refuses %p',
    (cursor) => {
      expect(() => decodeCursor(cursor)).toThrow(DomainError);
    },
  );
});

describe('readEvent', () => {
  const message = (body: unknown) => ({ json: <T>() => (typeof body === 'string' ? JSON.parse(body) : body) as T });
  const good = { id: row.eventId, type: 'identity.user.invited', occurredAt: '', accountId: null, data: {} };

  it('reads a well-formed envelope', () => {
    expect(readEvent(message(good))).toEqual(good);
  });

  it.each([
    ['not JSON', '{'],
    ['no id', { ...good, id: undefined }],
    ['an id that is not a UUID', { ...good, id: 'x' }],
    ['an account id that is not a UUID', { ...good, accountId: 'acme' }],
    ['no data', { ...good, data: null }],
    ['not an object', 42],
  ])('refuses %s', (_label, body) => {
    expect(readEvent(message(body))).toBeNull();
  });
});

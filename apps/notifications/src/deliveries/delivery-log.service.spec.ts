import { ErrorCode } from '#libs/errors/index.js';
import { decodeCursor, encodeCursor, toView } from './delivery-log.service.js';
import type { PagedDelivery } from './delivery.store.js';

const row: PagedDelivery = {
  id: '3f1f7b0e-2a10-4a51-9b8e-7f0c3d3e8d5c',
  eventId: '0b7e9a52-5f0e-4a53-b3c4-1a2b3c4d5e6f',
  sourceEventId: null,
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
  rateWaitUntil: null,
  waitEndedAt: null,
  rateWaitKey: null,
  linkTokenHash: null,
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

  it('names the event that asked for the mail, also when the mail is one of several it made (its key derived from the event)', () => {
    expect(toView(row, true).eventId).toBe(row.eventId);
    const handOver = { ...row, eventId: '635f910e-c469-5872-8bd0-657f5228a412', sourceEventId: row.eventId, template: 'ownership-received' as const };
    expect(toView(handOver, true)).toMatchObject({ eventId: row.eventId, template: 'ownership-received' });
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

  it.each([
    ['nothing', ''],
    ['not base64 of a cursor', 'abc'],
    ['no time, no id', Buffer.from('2026-11-22|x').toString('base64url')],
    ['a time without microseconds, in the former shape', Buffer.from(`2026-11-22T10:00:00Z|${row.id}`).toString('base64url')],
    ['a day that does not exist, in the former shape', Buffer.from(`2026-02-30T10:00:00.000000Z|${row.id}`).toString('base64url')],
    ['a day that does not exist', Buffer.from(JSON.stringify(['deliveries', '2026-02-30T10:00:00.000000Z', row.id])).toString('base64url')],
    ['an hour that does not exist', Buffer.from(JSON.stringify(['deliveries', '2026-11-22T24:00:00.000000Z', row.id])).toString('base64url')],
    ['the audit trail’s cursor', Buffer.from(JSON.stringify(['audit', row.position, row.id])).toString('base64url')],
  ])('refuses %s, naming the cursor', (_label, cursor) => {
    expect(() => decodeCursor(cursor)).toThrow(expect.objectContaining({ code: ErrorCode.ValidationFailed, details: { field: 'cursor' } }));
  });
});

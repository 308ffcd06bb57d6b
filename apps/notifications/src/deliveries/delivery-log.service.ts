import { Injectable } from '@nestjs/common';
import { isOutsider, Subjects, type DeliveryPage, type DeliveryView, type ListDeliveriesRequest } from '#libs/contracts/index.js';
import { DomainError, ErrorCode } from '#libs/errors/index.js';
import { decodeCursor as decodeCursorParts, encodeCursor as encodeCursorParts, RpcClient } from '#libs/platform/index.js';
import { DeliveryStore, type PagedDelivery } from './delivery.store.js';
import { maskAddress, maskAddressesIn } from './recipient-mask.js';

const DEFAULT_PAGE = 50;

/**
 * The delivery log of an account. Access decides, on the actor the gateway verified: reading it
 * takes `deliveries:read`; seeing the addresses in clear also takes `members:read` (whoever may
 * not see the user table sees `a***@example.com`).
 */
@Injectable()
export class DeliveryLogService {
  constructor(
    private readonly store: DeliveryStore,
    private readonly rpc: RpcClient,
  ) {}

  async list(request: ListDeliveriesRequest): Promise<DeliveryPage> {
    const reveal = await this.authorize(request);
    const limit = request.limit ?? DEFAULT_PAGE;
    const rows = await this.store.page({
      accountId: request.accountId,
      status: request.status,
      template: request.template,
      limit: limit + 1,
      after: request.cursor ? decodeCursor(request.cursor) : undefined,
    });
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return { items: page.map((row) => toView(row, reveal)), nextCursor: rows.length > limit && last ? encodeCursor(last) : null };
  }

  /** Throws unless the actor may read the log; returns whether it may see addresses. */
  private async authorize(request: ListDeliveriesRequest): Promise<boolean> {
    const principal = { type: request.actor.type, id: request.actor.id };
    const ask = (section: string, action: string) => this.rpc.send(Subjects.AccessCheck, { principal, accountId: request.accountId, section, action });
    // Portico's own permissions are asked as portico.<section> (docs/access.md).
    const [log, members] = await Promise.all([ask('portico.deliveries', 'read'), ask('portico.members', 'read')]);
    if (isOutsider(log.reason)) throw new DomainError(ErrorCode.NotFound, 'Account not found');
    if (!log.allowed) throw new DomainError(ErrorCode.Forbidden, 'Missing permission deliveries:read');
    return members.allowed;
  }
}

/** A log line as the API shows it; addresses masked unless `reveal`. */
export function toView(row: PagedDelivery, reveal: boolean): DeliveryView {
  const iso = (date: Date | null) => (date ? date.toISOString() : null);
  return {
    id: row.id,
    eventId: row.sourceEventId ?? row.eventId,
    event: row.eventType,
    template: row.template,
    locale: row.locale,
    recipient: reveal ? row.recipient : maskAddress(row.recipient),
    status: row.status,
    attempts: row.attempts,
    lastError: row.lastError === null || reveal ? row.lastError : maskAddressesIn(row.lastError),
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
    lastAttemptAt: iso(row.lastAttemptAt),
    nextAttemptAt: row.status === 'pending' ? iso(row.nextAttemptAt) : null,
    sentAt: iso(row.sentAt),
  };
}

/** The sort a delivery log cursor belongs to (the shared cursor's prefix). */
const CURSOR_SORT = ['deliveries'];

/** The cursor after `row`: its creation time (to the microsecond) and id, in the shared cursor format (libs/platform/cursor.ts). */
export function encodeCursor(row: Pick<PagedDelivery, 'position' | 'id'>): string {
  return encodeCursorParts([...CURSOR_SORT, row.position, row.id]);
}

/**
 * Reads a cursor: a time that exists and a UUID, as the page query reads them. Anything else
 * (another list's cursor, a forged or tampered one, an impossible date) is a validation error
 * naming `cursor` (400), never a database error.
 */
export function decodeCursor(cursor: string): { createdAt: string; id: string } {
  const [createdAt, id] = decodeCursorParts(cursor, CURSOR_SORT, ['time', 'uuid'])!;
  return { createdAt, id };
}

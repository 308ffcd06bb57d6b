import type { AuditEventView } from '#libs/contracts/index.js';
import type { AuditEventEntity } from './audit-event.entity.js';

/** An audit row as the API shows it. */
export function toView(event: AuditEventEntity): AuditEventView {
  return {
    id: event.id,
    occurredAt: event.occurredAt.toISOString(),
    action: event.action,
    outcome: event.outcome,
    actor: event.actorType && event.actorId ? { type: event.actorType, id: event.actorId } : null,
    target: event.targetType && event.targetId ? { type: event.targetType, id: event.targetId } : null,
    ip: event.ip,
    details: event.details,
  };
}

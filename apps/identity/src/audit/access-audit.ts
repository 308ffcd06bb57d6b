import { isUUID } from 'class-validator';
import {
  Events,
  PRINCIPAL_TYPES,
  principalOf,
  type AccessChangeBy,
  type AuditAction,
  type AuditTarget,
  type EventDataMap,
  type EventEnvelope,
  type EventType,
  type HeldRole,
} from '#libs/contracts/index.js';
import { isObject } from '#libs/platform/index.js';
import type { AuditDetails, EventAuditEntry } from './audit.service.js';

/** The events access publishes about its changes. */
export type AccessEventType = Extract<EventType, `access.${string}`>;

/** What an access event says, as the audit trail shows it. */
interface AuditedChange {
  action: AuditAction;
  target: AuditTarget;
  details: AuditDetails;
}

/** Whether one field of an event's data is what the audit can record (it comes from another service: nothing is taken on trust). */
type Field = (value: unknown) => boolean;

/** A check of every field of an event's data beyond {@link AccessChangeBy}: a field added to the contract does not compile until checked. */
type Fields<D> = { [K in Exclude<keyof D, keyof AccessChangeBy>]-?: Field };

/** How the audit reads one type of access event: the fields it checks, then the row they make. */
interface Audited<T extends AccessEventType> {
  fields: Fields<EventDataMap[T]>;
  change: (data: EventDataMap[T]) => AuditedChange;
}

/** What the audit makes of an access event (see {@link auditOfAccessEvent}). */
export type AccessAudit =
  | { kind: 'entry'; entry: EventAuditEntry }
  /** An `access.*` type this release does not know: a newer access published it, and a newer identity will record it. */
  | { kind: 'unknown' }
  /** An event that breaks its contract (a field missing or malformed): it could never be recorded; `reason` names what is wrong. */
  | { kind: 'refused'; reason: string };

const uuid: Field = (value) => typeof value === 'string' && isUUID(value);
/** PostgreSQL refuses NUL in text and jsonb: a string holding one could never be written. */
const text: Field = (value) => typeof value === 'string' && !value.includes('\u0000');
const texts: Field = (value) => Array.isArray(value) && value.every(text);
const count: Field = (value) => Number.isSafeInteger(value) && (value as number) >= 0;
const orNull =
  (field: Field): Field =>
  (value) =>
    value === null || field(value);
/** An optional {@link Change}: absent, or a before and an after that each pass `field`. */
const change =
  (field: Field): Field =>
  (value) =>
    value === undefined || (isObject(value) && field(value.from) && field(value.to));
const roleChanges: Field = (value) => isObject(value) && change(text)(value.name) && change(orNull(text))(value.description) && change(texts)(value.grants);

const principal: Field = (value) => isObject(value) && (PRINCIPAL_TYPES as readonly unknown[]).includes(value.type) && uuid(value.id);
const heldRoles: Field = (value) =>
  Array.isArray(value) && value.every((held) => isObject(held) && text(held.roleId) && text(held.role) && orNull(texts)(held.applicationIds));

const role = (id: string): AuditTarget => ({ type: 'role', id });
const application = (id: string): AuditTarget => ({ type: 'application', id });

/**
 * Each access event as an audit row: the role or application is the target, and `details` name it
 * (ids alone mean nothing once it is gone) and say what changed. A new access event does not
 * compile until it is decided here, nor a new field of one until it is checked.
 */
const AUDITED: { [T in AccessEventType]: Audited<T> } = {
  [Events.RoleCreated]: {
    fields: { roleId: uuid, name: text, description: orNull(text), grants: texts },
    change: (data) => ({
      action: 'role.created',
      target: role(data.roleId),
      details: { name: data.name, description: data.description, grants: data.grants },
    }),
  },
  [Events.RoleUpdated]: {
    fields: { roleId: uuid, name: text, changes: roleChanges, holders: count },
    change: (data) => ({ action: 'role.updated', target: role(data.roleId), details: roleUpdateDetails(data) }),
  },
  [Events.RoleDeleted]: {
    fields: { roleId: uuid, name: text, grants: texts },
    change: (data) => ({ action: 'role.deleted', target: role(data.roleId), details: { name: data.name, grants: data.grants } }),
  },
  [Events.ApplicationCreated]: {
    fields: { applicationId: uuid, name: text },
    change: (data) => ({ action: 'application.created', target: application(data.applicationId), details: { name: data.name } }),
  },
  [Events.ApplicationRenamed]: {
    fields: { applicationId: uuid, name: text, previousName: text },
    change: (data) => ({
      action: 'application.renamed',
      target: application(data.applicationId),
      details: { name: data.name, previousName: data.previousName },
    }),
  },
  [Events.ApplicationDeleted]: {
    fields: { applicationId: uuid, name: text, bindingsNarrowed: count, bindingsRemoved: count },
    change: (data) => ({
      action: 'application.deleted',
      target: application(data.applicationId),
      details: { name: data.name, bindingsNarrowed: data.bindingsNarrowed, bindingsRemoved: data.bindingsRemoved },
    }),
  },
  [Events.BindingsReplaced]: {
    // version orders the role projection's changes (see RoleProjection); the audit does not show it. Absent from older access releases.
    fields: { principal, before: heldRoles, after: heldRoles, version: (value) => value === undefined || count(value) },
    change: (data) => ({
      action: 'roles.changed',
      target: principalOf(data.principal),
      details: { ...heldDetails(data.after), ...heldDetails(data.before, 'Before') },
    }),
  },
};

/** Who made the change, in which account, from where: the same in every access event. */
const CHANGE_BY: { [K in keyof AccessChangeBy]-?: Field } = {
  accountId: uuid,
  actor: principal,
  ip: (value) => value === undefined || orNull(text)(value),
};

/** Whether identity's audit records events of this type. */
export function isAccessEvent(type: string): type is AccessEventType {
  return Object.hasOwn(AUDITED, type);
}

/**
 * The audit row of an access event, under the event's id and at its time; `unknown` for an
 * `access.*` type this release does not know; `refused` for anything else it could never write
 * (not an access event, a field the row needs missing or malformed).
 */
export function auditOfAccessEvent(event: EventEnvelope): AccessAudit {
  if (!isAccessEvent(event.type)) return event.type.startsWith('access.') ? { kind: 'unknown' } : { kind: 'refused', reason: 'not an access event' };
  if (!uuid(event.id)) return { kind: 'refused', reason: 'id' };
  const occurredAt = timeOf(event.occurredAt);
  if (!occurredAt) return { kind: 'refused', reason: 'occurredAt' };
  const audited = AUDITED[event.type] as unknown as { fields: Record<string, Field>; change: (data: AccessChangeBy) => AuditedChange };
  const data = event.data as unknown;
  if (!isObject(data)) return { kind: 'refused', reason: 'data' };
  const invalid = [...Object.entries(CHANGE_BY), ...Object.entries(audited.fields)].find(([key, field]) => !field(data[key]));
  if (invalid) return { kind: 'refused', reason: `data.${invalid[0]}` };
  const by = data as unknown as AccessChangeBy;
  const entry = { eventId: event.id, accountId: by.accountId, occurredAt, actor: principalOf(by.actor), ip: by.ip ?? null, ...audited.change(by) };
  return { kind: 'entry', entry };
}

/** The time an event happened, if it names one PostgreSQL can store (an ISO-like string, year 1 to 9999). */
function timeOf(value: unknown): Date | undefined {
  if (typeof value !== 'string') return undefined;
  const time = new Date(value);
  const year = time.getUTCFullYear();
  return Number.isNaN(time.getTime()) || year < 1 || year > 9999 ? undefined : time;
}

/** The name after the change, what changed (`changed`), and each change's before and after. */
function roleUpdateDetails({ name, changes, holders }: EventDataMap[typeof Events.RoleUpdated]): AuditDetails {
  const details: AuditDetails = { name, changed: Object.keys(changes), holders };
  if (changes.name) details.previousName = changes.name.from;
  if (changes.description) Object.assign(details, { description: changes.description.to, previousDescription: changes.description.from });
  if (changes.grants) Object.assign(details, { grantsBefore: changes.grants.from, grantsAfter: changes.grants.to });
  return details;
}

/**
 * Roles held, as flat audit details: `roles` (their names then, each once) and `applicationIds`
 * (those they are limited to together; null when one reaches every application), `suffix` after each key.
 * The bindings the API writes are alike in that (a person's one role; a subuser's roles, all
 * limited alike): the event itself keeps each role's own.
 */
function heldDetails(held: HeldRole[], suffix = ''): AuditDetails {
  const applicationIds = held.some((binding) => binding.applicationIds === null) ? null : [...new Set(held.flatMap((binding) => binding.applicationIds ?? []))];
  return { [`roles${suffix}`]: [...new Set(held.map((binding) => binding.role))], [`applicationIds${suffix}`]: applicationIds };
}

import type { EntityManager } from 'typeorm';
import { Events, principalOf, type AccessChangeBy, type HeldRole, type Principal } from '#libs/contracts/index.js';
import type { OutboxWriter } from '#libs/outbox/index.js';
import type { BindingRecord, DecisionStore } from '../checks/decision-store.js';

/** A change of what a principal holds in an account: before and after, as judged in the change, and the account's version it commits as. */
export interface HeldChange {
  principal: Principal;
  before: BindingRecord[];
  after: BindingRecord[];
  version: number;
}

/**
 * Writes `access.bindings.replaced` in the change's transaction (identity audits it as
 * `roles.changed`), each role named as it is in this change; nothing when the principal holds the
 * same bindings after as before. Answers whether it wrote one.
 */
export async function writeBindingsReplaced(
  manager: EntityManager,
  deps: { store: DecisionStore; outbox: OutboxWriter },
  by: AccessChangeBy,
  { principal, before, after, version }: HeldChange,
): Promise<boolean> {
  if (sameBindings(before, after)) return false;
  const held = (binding: BindingRecord): HeldRole => ({
    roleId: binding.roleId,
    role: deps.store.role(by.accountId, binding.roleId)?.name ?? binding.roleId,
    applicationIds: binding.applicationIds,
  });
  const data = { principal: principalOf(principal), before: before.map(held), after: after.map(held), version };
  await deps.outbox.add(manager, Events.BindingsReplaced, by.accountId, { ...by, ...data });
  return true;
}

/** Whether two sets of bindings are the same (order, and the order of applications, aside). */
export function sameBindings(first: BindingRecord[], second: BindingRecord[]): boolean {
  const keys = (bindings: BindingRecord[]) => bindings.map(bindingKey).sort().join('\n');
  return keys(first) === keys(second);
}

/** A binding as one comparable string: its role id and its applications as a set (`*`: every application). */
export function bindingKey({ roleId, applicationIds }: BindingRecord): string {
  return JSON.stringify([roleId, applicationIds === null ? '*' : [...new Set(applicationIds)].sort()]);
}

import { principalOf, type AccessChangeBy, type ClientContext, type Principal, type RoleUpdatedData } from '#libs/contracts/index.js';
import type { Grants } from '../checks/permission-index.js';

/** A custom role as its events tell it: `grants` as `section:action` each, sorted. */
export interface RoleState {
  name: string;
  description: string | null;
  grants: string[];
}

/** Who made a change, in which account, from where: the part every access event carries. */
export function changedBy({ actor, accountId, client }: { actor: Principal; accountId: string; client?: ClientContext }): AccessChangeBy {
  return { accountId, actor: principalOf(actor), ip: client?.ip ?? null };
}

/** What a role grants, as `section:action` each, sorted (so two lists compare and diff plainly). */
export function grantList(grants: Grants): string[] {
  return Object.entries(grants)
    .flatMap(([section, actions]) => actions.map((action) => `${section}:${action}`))
    .sort();
}

/** What an edit changed of a role, each from before to after: empty when it changed nothing. */
export function roleChanges(before: RoleState, after: RoleState): RoleUpdatedData['changes'] {
  const changes: RoleUpdatedData['changes'] = {};
  if (after.name !== before.name) changes.name = { from: before.name, to: after.name };
  if (after.description !== before.description) changes.description = { from: before.description, to: after.description };
  if (after.grants.join() !== before.grants.join()) changes.grants = { from: before.grants, to: after.grants };
  return changes;
}

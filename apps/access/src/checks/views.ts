import type { Grant, RoleView } from '#libs/contracts/index.js';
import type { RoleRecord } from './decision-store.js';
import type { Grants } from './permission-index.js';

/** Grants map -> the API's list form. */
export function grantList(grants: Grants): Grant[] {
  return Object.entries(grants).map(([section, actions]) => ({ section, actions }));
}

/** A role as the API shows it. */
export function roleView(role: RoleRecord, holders: number): RoleView {
  return { id: role.id, name: role.name, description: role.description, builtin: role.builtin, grants: grantList(role.grants), holders };
}

import type { BindingInput, BindingView } from '#libs/contracts/index.js';
import { DomainError, ErrorCode } from '#libs/errors/index.js';
import { applicationsOf, roleIds } from './bindings.js';

/** What an edit of a subuser or a service account may say of its bindings: new roles, applications (null: every one), or neither. */
export type BindingsEdit = { roles?: string[]; applicationIds?: string[] | null };

/**
 * The bindings a subuser (or a service account, `holder`) is to hold after `body`, given those it
 * holds: roles kept go back by id, as held (a name may stand for another role by now).
 */
export function edited(body: BindingsEdit, held: BindingView[], holder = 'subuser'): BindingInput[] {
  return toBindings(body.roles ?? roleIds(held), applicationsToBind(body, held, holder));
}

/**
 * The applications an edit binds: the body's, else those the holder's bindings are limited to.
 * New roles for a holder of none (its last application was deleted, say) have no
 * applications to keep: the body must name them (null for every application), rather than the
 * roles silently reaching every application.
 */
function applicationsToBind(body: BindingsEdit, current: BindingView[], holder: string): string[] | null {
  if (body.applicationIds !== undefined) return body.applicationIds;
  if (body.roles !== undefined && current.length === 0) {
    throw new DomainError(
      ErrorCode.ValidationFailed,
      `applicationIds is required: the ${holder} holds no role whose applications the new ones could keep (null: every application)`,
      {
        field: 'applicationIds',
      },
    );
  }
  return applicationsOf(current);
}

/** The bindings of `roles`, each limited to `applicationIds` (null: every application). */
export function toBindings(roles: string[], applicationIds: string[] | null): BindingInput[] {
  return roles.map((role) => ({ role, applicationIds }));
}

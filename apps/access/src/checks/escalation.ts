import type { Principal } from '#libs/contracts/index.js';
import { coveredBy, type Effective } from './effective.js';
import { isSubset, type PermissionBits } from './permission-index.js';

/** The answer to an actor who holds nothing in the account. */
const NO_ROLE = 'You hold no role in this account';

/** Why a change of someone's rights is refused, or null when it is allowed. Pure, for table-driven tests. */
export function bindingChangeProblem(input: {
  actor: Principal;
  target: Principal;
  actorIsOwner: boolean;
  targetIsOwner: boolean;
  /** What the actor may do (undefined: nothing in this account). */
  actorRights: Effective | undefined;
  /** What the target may do now. */
  targetRights: Effective | undefined;
  /** What the target would be able to do after the change. */
  proposedRights: Effective;
}): string | null {
  if (input.targetIsOwner) return 'The account owner holds every permission and cannot be changed';
  if (input.actor.type === input.target.type && input.actor.id === input.target.id) return 'Nobody may change their own roles';
  if (input.actorIsOwner) return null;
  if (!input.actorRights) return NO_ROLE;
  if (input.targetRights && !coveredBy(input.targetRights, input.actorRights)) return 'This person holds permissions you lack; you cannot change their roles';
  if (!coveredBy(input.proposedRights, input.actorRights)) return 'You cannot grant a permission you lack';
  return null;
}

/** Why creating or editing a role with these grants is refused, or null. Only the owner may define what they do not hold themselves. */
export function roleGrantProblem(actorIsOwner: boolean, actorRights: Effective | undefined, grants: PermissionBits): string | null {
  if (actorIsOwner) return null;
  if (!actorRights || !isSubset(grants, actorRights.unlimited)) return 'You cannot define a role with permissions you lack';
  return null;
}

/**
 * Why changing what a role grants is refused, or null. Everyone holding the role gets the change
 * at once, so, as for their bindings, a non-owner may not change the rights of someone who holds
 * permissions they lack (`holderRights`: the holders' rights now, the account owner left out, whose
 * rights no role changes).
 */
export function roleHoldersProblem(actorIsOwner: boolean, actorRights: Effective | undefined, holderRights: Array<Effective | undefined>): string | null {
  if (actorIsOwner) return null;
  if (!actorRights) return NO_ROLE;
  if (holderRights.some((rights) => rights !== undefined && !coveredBy(rights, actorRights))) {
    return 'Someone holding this role has permissions you lack; you cannot change what it grants';
  }
  return null;
}

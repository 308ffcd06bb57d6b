import type { Actor, Principal } from '#libs/contracts/index.js';

/** The principal part of the verified actor (what access decides on). */
export function principalOf(actor: Actor): Principal {
  return { type: actor.type, id: actor.id };
}

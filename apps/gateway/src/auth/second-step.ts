import type { Actor } from '#libs/contracts/index.js';

/**
 * Where the gateway keeps, on an actor, that its access token says a second step was passed
 * (`amr` holds `mfa`): under a symbol, which JSON leaves out, so that it never goes into a request
 * to a service. No service needs it (identity reads the session's own row), and a service of the
 * release before would refuse a field it does not know during a rolling upgrade. Object spread
 * keeps it (each request's copy of a remembered actor).
 */
const SECOND_STEP_PASSED = Symbol('second step passed');

/** An actor as the gateway knows it: the actor, and whether its session passed a second step. */
type GatewayActor = Actor & { [SECOND_STEP_PASSED]?: boolean };

/** `actor`, marked as having passed a second step or not. */
export function withSecondStep(actor: Actor, passed: boolean): Actor {
  return Object.assign(actor, { [SECOND_STEP_PASSED]: passed });
}

/** Whether the session of `actor` passed a second step (false for an actor not made by {@link withSecondStep}). */
export function passedSecondStep(actor: Actor): boolean {
  return (actor as GatewayActor)[SECOND_STEP_PASSED] === true;
}

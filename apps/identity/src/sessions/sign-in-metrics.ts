import { Counter } from 'prom-client';
import { processMetrics } from '#libs/platform/metrics.js';

/** Why a sign-in was refused, as its audit entry says it (`details.reason`) and the metric counts it. */
export type SignInRefusal =
  'throttled' | 'unknown-login' | 'wrong-password' | 'not-allowed' | 'changed-during-sign-in' | 'second-step-blocked' | 'wrong-code' | 'used-code';

/** How one step of a sign-in ended: a session, a second step asked for, or a refusal. */
export type SignInOutcome = 'succeeded' | 'second-step-required' | SignInRefusal;

const signIns = new Counter<'outcome'>({
  name: 'portico_sign_ins_total',
  help: 'Sign-in steps this process answered (password or second step, users and subusers), by outcome: succeeded, second-step-required, or why it was refused (throttled, unknown-login, wrong-password, not-allowed, changed-during-sign-in, second-step-blocked, wrong-code, used-code)',
  labelNames: ['outcome'],
  registers: [processMetrics],
});

/** Counts one sign-in step's outcome (docs/deploy.md, section 10). */
export function countSignIn(outcome: SignInOutcome): void {
  signIns.inc({ outcome });
}

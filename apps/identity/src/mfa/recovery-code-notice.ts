import type { EntityManager } from 'typeorm';
import { Events, type Principal } from '#libs/contracts/index.js';
import type { OutboxWriter } from '#libs/outbox/index.js';
import type { Clock } from '#libs/platform/index.js';
import { queueLoginNotice } from '../credentials/login-notice.js';
import { loadProfile } from '../credentials/principal-profile.js';
import { deviceOf, type SignInClient } from '../sessions/user-agent.js';
import { recoveryCodesLeft } from './totp-factors.js';

/** What telling a login of a sign-in with one of its recovery codes needs (identity's services). */
export interface RecoveryCodeNoticeDeps {
  outbox: OutboxWriter;
  clock: Clock;
}

/**
 * A sign-in of `principal` passed its second step with a recovery code of the factor `factorId`,
 * used up in `manager`'s transaction (the one that opens the session, so that a sign-in that fails
 * tells nobody): queues `identity.second-step.recovery-code-used` for the notice to the login's
 * e-mail, saying when, from which address and device (as read from the User-Agent, never the raw
 * header), and how many codes are left. Whether a notice was queued (a subuser may have no e-mail):
 * the caller then nudges the outbox relay after its commit.
 */
export async function tellOfRecoveryCodeSignIn(
  deps: RecoveryCodeNoticeDeps,
  manager: EntityManager,
  principal: Principal,
  factorId: string,
  client: SignInClient,
): Promise<boolean> {
  const profile = (await loadProfile(manager, principal))!;
  return queueLoginNotice(deps.outbox, manager, profile, Events.RecoveryCodeUsed, {
    usedAt: deps.clock.now().toISOString(),
    ip: client.ip,
    device: deviceOf(client.userAgent),
    codesLeft: await recoveryCodesLeft(manager, factorId),
  });
}

import type { Logger } from 'pino';
import type { InvitationDeclined } from '#libs/contracts/index.js';
import type { RpcSender } from '#libs/platform/index.js';
import { Bindings, PERSON_BINDING_FIELDS } from '../people/bindings.js';

/**
 * Drops the roles of someone who has just declined an account's invitation (identity took the
 * membership out already). Should access not answer, the roles stay behind granting nothing
 * (identity told access the person is inactive there), and adding them again replaces them: a
 * warning in the log, not a failed answer for a decline that is done. Nothing to drop when the
 * decline closed the account.
 */
export async function dropDeclined(rpc: RpcSender, declined: InvitationDeclined, logger: Logger): Promise<void> {
  // A closed account's owner held no roles (the owner needs none), and access drops the account from identity's event.
  if (declined.accountClosed) return;
  await new Bindings(rpc, PERSON_BINDING_FIELDS)
    .removePrincipal(declined.accountId, { type: 'user', id: declined.userId })
    .catch((error: unknown) =>
      logger.warn({ err: (error as Error).message, ...declined }, 'Could not drop the roles of someone who declined an invitation; they grant nothing there'),
    );
}

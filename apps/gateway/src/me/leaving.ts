import { principalOf, Subjects, type Actor } from '#libs/contracts/index.js';
import { DomainError, ErrorCode } from '#libs/errors/index.js';
import type { Logger } from 'pino';
import type { RpcSender } from '#libs/platform/index.js';
import { Bindings, PERSON_BINDING_FIELDS } from '../people/bindings.js';

const YOU_OWN_IT = 'You own this account: hand it over to another member before you leave it';

/**
 * The caller leaves an account. Checks first that they are an active member (404 otherwise, as for
 * any account of others) and not its owner (409), so that nothing changes for a refused request;
 * then unbinds, then has identity take them out: as a removal by an admin, a second step that
 * fails leaves them a member holding nothing (never a non-member holding roles), and the same
 * request again completes it. Identity checks both rules again in its transaction.
 */
export async function leaveAccount(rpc: RpcSender, actor: Actor, accountId: string, ip: string, logger: Pick<Logger, 'warn'>): Promise<void> {
  if (actor.type !== 'user') throw new DomainError(ErrorCode.Forbidden, 'A subuser belongs to its account; an admin of the account deletes it');
  const client = { ip };
  await rpc.send(Subjects.UsersGet, { actor, accountId, client, userId: actor.id });
  const roles = await rpc.send(Subjects.AccessRolesOfPrincipal, { principal: principalOf(actor), accountIds: [accountId] });
  if (roles[accountId]?.owner) throw new DomainError(ErrorCode.Conflict, YOU_OWN_IT);
  const bindings = new Bindings(rpc, PERSON_BINDING_FIELDS);
  await bindings.removePrincipal(accountId, principalOf(actor));
  await rpc.send(Subjects.MeLeave, { actor, accountId, client });
  await bindings.unbindLeaver(accountId, principalOf(actor), logger);
}

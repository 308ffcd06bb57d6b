import { principalOf, Subjects, type AccountView, type Actor, type TransferOwnershipBody } from '#libs/contracts/index.js';
import { DomainError, ErrorCode } from '#libs/errors/index.js';
import type { RpcSender } from '#libs/platform/index.js';

/**
 * Hands an account to another member: access names the role the owner keeps (by id or name, as
 * the role list shows it), then identity checks the owner and the new owner and records the
 * hand-over; access applies it from identity's event, and notifications mails both people (the
 * role's name, for the previous owner's mail, goes along). One write, not two: access follows
 * identity's event (its outbox), so a lost answer leaves the hand-over done whole or not at all.
 */
export async function transferOwnership(rpc: RpcSender, actor: Actor, accountId: string, ip: string, body: TransferOwnershipBody): Promise<AccountView> {
  const roles = await rpc.send(Subjects.AccessRolesList, { actor: principalOf(actor), accountId });
  const wanted = body.previousOwnerRole.toLowerCase();
  // Ids in capitals name the same role (as everywhere), names are matched without case.
  const role = roles.find((candidate) => candidate.id.toLowerCase() === wanted || candidate.name.toLowerCase() === wanted);
  if (!role) {
    throw new DomainError(ErrorCode.ValidationFailed, `previousOwnerRole: no role "${body.previousOwnerRole}" in this account`, { field: 'previousOwnerRole' });
  }
  return rpc.send(Subjects.AccountsTransferOwnership, {
    actor,
    accountId,
    client: { ip },
    body: { ...body, previousOwnerRole: role.id },
    previousOwnerRoleName: role.name,
  });
}

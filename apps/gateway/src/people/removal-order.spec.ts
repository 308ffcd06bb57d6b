import { DomainError, ErrorCode } from '#libs/errors/index.js';
import type { RpcSender } from '#libs/platform/index.js';
import { SubusersComposer } from '../subusers/subusers.composer.js';
import { UsersComposer } from '../users/users.composer.js';

const ACCOUNT = '00000000-0000-4000-8000-00000000000a';
const TARGET = '00000000-0000-4000-8000-00000000000b';
const actor = { type: 'user' as const, id: '00000000-0000-4000-8000-000000000001', sessionId: '00000000-0000-4000-8000-000000000002' };
const client = { ip: '10.0.0.1' };

/** A sender that records the subjects sent, answers `{}` (bindings: none), and fails `failing` once reached. */
function recordingSender(failing?: string) {
  const sent: string[] = [];
  const rpc = {
    send: (subject: string) => {
      sent.push(subject);
      if (subject === failing) return Promise.reject(new DomainError(ErrorCode.ServiceUnavailable, 'access is away'));
      return Promise.resolve({});
    },
  } as unknown as RpcSender;
  return { rpc, sent };
}

describe('removing someone from an account', () => {
  it.each([
    ['a user', (rpc: RpcSender) => new UsersComposer(rpc).remove(actor, ACCOUNT, client, TARGET), 'identity.users.remove'],
    ['an invitation', (rpc: RpcSender) => new UsersComposer(rpc).revokeInvitation(actor, ACCOUNT, client, TARGET), 'identity.users.invitation.revoke'],
    ['a subuser', (rpc: RpcSender) => new SubusersComposer(rpc).remove(actor, ACCOUNT, client, TARGET), 'identity.subusers.remove'],
  ])('(%s) unbinds first: when unbinding fails, identity is not asked to remove (no non-member left holding roles)', async (_label, remove, removal) => {
    const fine = recordingSender();
    await remove(fine.rpc);
    expect(fine.sent.indexOf('access.bindings.remove-principal')).toBeLessThan(fine.sent.indexOf(removal));
    expect(fine.sent).toContain(removal);

    const failing = recordingSender('access.bindings.remove-principal');
    await expect(remove(failing.rpc)).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
    expect(failing.sent).not.toContain(removal);
  });
});

import { DomainError, ErrorCode } from '#libs/errors/index.js';
import type { RpcSender } from '#libs/platform/index.js';
import { SubusersComposer } from '../subusers/subusers.composer.js';
import { UsersComposer } from '../users/users.composer.js';

const ACCOUNT = '00000000-0000-4000-8000-00000000000a';
const TARGET = '00000000-0000-4000-8000-00000000000b';
const actor = { type: 'user' as const, id: '00000000-0000-4000-8000-000000000001', sessionId: '00000000-0000-4000-8000-000000000002' };
const client = { ip: '10.0.0.1' };

const DEVELOPER = { roleId: 'builtin:Developer', role: 'Developer', applicationIds: null };

/**
 * A sender that records the subjects (and replacements) sent; the target is `status` and holds
 * Developer; `failing` fails once reached.
 */
function recordingSender(failing?: string, status = 'pending') {
  const sent: string[] = [];
  const replacements: unknown[] = [];
  const answers: Record<string, unknown> = {
    'identity.users.get': { id: TARGET, status },
    'identity.subusers.get': { id: TARGET },
    'access.bindings.of-principals': { [TARGET]: [DEVELOPER] },
  };
  const rpc = {
    send: (subject: string, payload: { bindings?: unknown[]; dryRun?: boolean }) => {
      sent.push(subject);
      if (subject === 'access.bindings.replace' && !payload.dryRun) replacements.push(payload.bindings);
      if (subject === failing) return Promise.reject(new DomainError(ErrorCode.ServiceUnavailable, 'away'));
      return Promise.resolve(answers[subject] ?? {});
    },
  } as unknown as RpcSender;
  return { rpc, sent, replacements };
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

describe('revoking an invitation', () => {
  const revoke = (rpc: RpcSender) => new UsersComposer(rpc).revokeInvitation(actor, ACCOUNT, client, TARGET);

  it('of someone who already activated is refused (409) before anything is unbound', async () => {
    const active = recordingSender(undefined, 'active');
    await expect(revoke(active.rpc)).rejects.toMatchObject({ code: 'CONFLICT' });
    expect(active.sent).not.toContain('access.bindings.remove-principal');
  });

  it('gives the roles back when identity refuses after the unbinding (the person activated meanwhile)', async () => {
    const refused = recordingSender('identity.users.invitation.revoke');
    await expect(revoke(refused.rpc)).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
    expect(refused.replacements).toEqual([[{ role: 'builtin:Developer', applicationIds: null }]]);
  });
});

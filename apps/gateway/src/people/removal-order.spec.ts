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

describe('adding a person when an answer is lost (a replica died after its commit)', () => {
  const body = { firstName: 'Ada', lastName: 'L', email: 'Ada@Engines.test', phone: '+33612345678', role: 'Developer' };
  const lost = () => Promise.reject(new DomainError(ErrorCode.UpstreamTimeout, 'no answer in time'));

  /** A sender where `timingOut` never answers in time and the user table holds `members` (with `bound` holding Developer). */
  function sender(timingOut: string, members: Array<{ id: string; email: string }> = [], bound: string[] = []) {
    const sent: string[] = [];
    const replaced: string[] = [];
    const rpc = {
      send: (subject: string, payload: { dryRun?: boolean; principal?: { id: string } }) => {
        sent.push(subject);
        if (subject === timingOut && !payload.dryRun) return lost();
        if (subject === 'access.bindings.replace' && !payload.dryRun) replaced.push(payload.principal!.id);
        if (subject === 'identity.users.create') return Promise.resolve({ id: TARGET });
        if (subject === 'identity.users.list') return Promise.resolve({ items: members, nextCursor: null });
        if (subject === 'access.bindings.of-principals') return Promise.resolve(Object.fromEntries(bound.map((id) => [id, [DEVELOPER]])));
        return Promise.resolve({});
      },
    } as unknown as RpcSender;
    return { rpc, sent, replaced };
  }
  const create = (rpc: RpcSender) => new UsersComposer(rpc).create(actor, ACCOUNT, client, body);

  it('gives the role to the person identity added though its answer never came, and still answers 504', async () => {
    const added = sender('identity.users.create', [{ id: TARGET, email: 'ada@engines.test' }]);
    await expect(create(added.rpc)).rejects.toMatchObject({ code: 'UPSTREAM_TIMEOUT' });
    expect(added.replaced).toEqual([TARGET]);
  });

  it('binds nobody when the person was not added, or already holds a role (another request added them)', async () => {
    const notAdded = sender('identity.users.create', [{ id: 'someone-else', email: 'ada@engines.test.example' }]);
    await expect(create(notAdded.rpc)).rejects.toMatchObject({ code: 'UPSTREAM_TIMEOUT' });
    expect(notAdded.replaced).toEqual([]);
    const holding = sender('identity.users.create', [{ id: TARGET, email: 'ada@engines.test' }], [TARGET]);
    await expect(create(holding.rpc)).rejects.toMatchObject({ code: 'UPSTREAM_TIMEOUT' });
    expect(holding.replaced).toEqual([]);
  });

  it('undoes the add when the binding is not answered: unbinds first (it may have been made), then removes', async () => {
    const unanswered = sender('access.bindings.replace');
    await expect(create(unanswered.rpc)).rejects.toMatchObject({ code: 'UPSTREAM_TIMEOUT' });
    expect(unanswered.sent.slice(-2)).toEqual(['access.bindings.remove-principal', 'identity.users.remove']);
  });

  it('leaves the person a member when unbinding fails too: never a non-member holding a role', async () => {
    const rpc = sender('access.bindings.replace').rpc;
    const sent: string[] = [];
    const failing = {
      send: (subject: string, payload: unknown) => {
        sent.push(subject);
        return subject === 'access.bindings.remove-principal' ? lost() : rpc.send(subject as never, payload as never);
      },
    } as unknown as RpcSender;
    await expect(create(failing)).rejects.toMatchObject({ code: 'UPSTREAM_TIMEOUT' });
    expect(sent).toContain('access.bindings.remove-principal');
    expect(sent).not.toContain('identity.users.remove');
  });
});

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
 * Developer; `failing` fails with `code` once reached.
 */
function recordingSender(failing?: string, status = 'pending', code = ErrorCode.ServiceUnavailable) {
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
      if (subject === failing) return Promise.reject(new DomainError(code, 'away'));
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

  it("gives nothing back when identity's answer is lost (the person may be out of the account by then): never a non-member holding roles", async () => {
    const unanswered = recordingSender('identity.users.invitation.revoke', 'pending', ErrorCode.UpstreamTimeout);
    await expect(revoke(unanswered.rpc)).rejects.toMatchObject({ code: 'UPSTREAM_TIMEOUT' });
    expect(unanswered.sent).toContain('access.bindings.remove-principal');
    expect(unanswered.replacements).toEqual([]);
  });
});

const APP = '00000000-0000-4000-8000-0000000000ab';

/** Adding someone, as a person or as a subuser: the subjects of identity's side, whom its list finds (or not) and what access is to bind. */
const ADDITIONS = [
  {
    label: 'a person',
    add: (rpc: RpcSender) =>
      new UsersComposer(rpc).create(actor, ACCOUNT, client, {
        firstName: 'Ada',
        lastName: 'L',
        email: 'Ada@Engines.test',
        phone: '+33612345678',
        role: 'Developer',
      }),
    subjects: { create: 'identity.users.create', list: 'identity.users.list', remove: 'identity.users.remove' },
    found: { id: TARGET, email: 'ada@engines.test' },
    other: { id: 'someone-else', email: 'ada@engines.test.example' },
    bound: [{ role: 'Developer' }],
  },
  {
    label: 'a subuser',
    add: (rpc: RpcSender) =>
      new SubusersComposer(rpc).create(actor, ACCOUNT, client, { login: 'Desk-1', password: 'x', roles: ['Developer'], applicationIds: [APP] }),
    subjects: { create: 'identity.subusers.create', list: 'identity.subusers.list', remove: 'identity.subusers.remove' },
    found: { id: TARGET, login: 'desk-1' },
    other: { id: 'someone-else', login: 'desk-10' },
    bound: [{ role: 'Developer', applicationIds: [APP] }],
  },
];

describe.each(ADDITIONS)('adding $label when an answer is lost (a replica died after its commit)', ({ add, subjects, found, other, bound }) => {
  const lost = () => Promise.reject(new DomainError(ErrorCode.UpstreamTimeout, 'no answer in time'));

  /** A sender where `timingOut` never answers in time and identity's list holds `listed` (with `holding` bound to Developer). */
  function sender(timingOut: string, listed: object[] = [], holding: string[] = []) {
    const sent: string[] = [];
    const replaced: Array<{ id: string; bindings: unknown }> = [];
    const rpc = {
      send: (subject: string, payload: { dryRun?: boolean; principal?: { id: string }; bindings?: unknown }) => {
        sent.push(subject);
        if (subject === timingOut && !payload.dryRun) return lost();
        if (subject === 'access.bindings.replace' && !payload.dryRun) replaced.push({ id: payload.principal!.id, bindings: payload.bindings });
        if (subject === subjects.create) return Promise.resolve({ id: TARGET });
        if (subject === subjects.list) return Promise.resolve({ items: listed, nextCursor: null });
        if (subject === 'access.bindings.of-principals') return Promise.resolve(Object.fromEntries(holding.map((id) => [id, [DEVELOPER]])));
        return Promise.resolve({});
      },
    } as unknown as RpcSender;
    return { rpc, sent, replaced };
  }

  it('gives the roles to whom identity added though its answer never came, and still answers 504', async () => {
    const added = sender(subjects.create, [found]);
    await expect(add(added.rpc)).rejects.toMatchObject({ code: 'UPSTREAM_TIMEOUT' });
    expect(added.replaced).toEqual([{ id: TARGET, bindings: [expect.objectContaining(bound[0])] }]);
  });

  it('binds nobody when nobody was added, or the one found already holds a role (another request added them)', async () => {
    const notAdded = sender(subjects.create, [other]);
    await expect(add(notAdded.rpc)).rejects.toMatchObject({ code: 'UPSTREAM_TIMEOUT' });
    expect(notAdded.replaced).toEqual([]);
    const holding = sender(subjects.create, [found], [TARGET]);
    await expect(add(holding.rpc)).rejects.toMatchObject({ code: 'UPSTREAM_TIMEOUT' });
    expect(holding.replaced).toEqual([]);
  });

  it('undoes the add when the binding is not answered: unbinds first (it may have been made), then removes', async () => {
    const unanswered = sender('access.bindings.replace');
    await expect(add(unanswered.rpc)).rejects.toMatchObject({ code: 'UPSTREAM_TIMEOUT' });
    expect(unanswered.sent.slice(-2)).toEqual(['access.bindings.remove-principal', subjects.remove]);
  });

  it('leaves them in the account when unbinding fails too: never out of it holding a role', async () => {
    const rpc = sender('access.bindings.replace').rpc;
    const sent: string[] = [];
    const failing = {
      send: (subject: string, payload: unknown) => {
        sent.push(subject);
        return subject === 'access.bindings.remove-principal' ? lost() : rpc.send(subject as never, payload as never);
      },
    } as unknown as RpcSender;
    await expect(add(failing)).rejects.toMatchObject({ code: 'UPSTREAM_TIMEOUT' });
    expect(sent).toContain('access.bindings.remove-principal');
    expect(sent).not.toContain(subjects.remove);
  });
});

describe('finding a subuser whose creation went unanswered', () => {
  it('asks identity for its login only (unique in the account), not a page of every subuser', async () => {
    const lists: unknown[] = [];
    const rpc = {
      send: (subject: string, payload: { dryRun?: boolean }) => {
        if (subject === 'identity.subusers.list') lists.push(payload);
        if (subject === 'identity.subusers.create') return Promise.reject(new DomainError(ErrorCode.UpstreamTimeout, 'no answer in time'));
        return Promise.resolve(subject === 'identity.subusers.list' ? { items: [], nextCursor: null } : {});
      },
    } as unknown as RpcSender;
    await expect(ADDITIONS[1].add(rpc)).rejects.toMatchObject({ code: 'UPSTREAM_TIMEOUT' });
    expect(lists).toEqual([expect.objectContaining({ login: 'Desk-1' })]);
  });
});

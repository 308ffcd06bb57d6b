import type { Logger } from 'pino';
import { DomainError, ErrorCode } from '#libs/errors/index.js';
import type { RpcSender } from '#libs/platform/index.js';
import { leaveAccount } from '../me/leaving.js';
import { SubusersComposer } from '../subusers/subusers.composer.js';
import { UsersComposer } from '../users/users.composer.js';

const ACCOUNT = '00000000-0000-4000-8000-00000000000a';
const TARGET = '00000000-0000-4000-8000-00000000000b';
const actor = { type: 'user' as const, id: '00000000-0000-4000-8000-000000000001', sessionId: '00000000-0000-4000-8000-000000000002' };
const client = { ip: '10.0.0.1' };
/** A logger that drops everything. */
const quiet: Pick<Logger, 'warn'> = { warn: () => undefined };

const DEVELOPER = { roleId: 'builtin:Developer', role: 'Developer', applicationIds: null };

/**
 * A sender that records the subjects (and replacements) sent; the target is `status` and holds
 * Developer; `failing` fails with `code` once reached; `removal` is access's answer to the unbinding
 * (by default, that of an access of the release before, which does not say what it dropped).
 */
function recordingSender(failing?: string, status = 'pending', code = ErrorCode.ServiceUnavailable, details?: unknown, removal: unknown = { removed: 1 }) {
  const sent: string[] = [];
  const replacements: unknown[] = [];
  const conditions: unknown[] = [];
  const removals: unknown[] = [];
  const answers: Record<string, unknown> = {
    'identity.users.get': { id: TARGET, status },
    'identity.subusers.get': { id: TARGET },
    'access.bindings.of-principals': { [TARGET]: [DEVELOPER] },
    'access.bindings.remove-principal': removal,
  };
  const rpc = {
    send: (subject: string, payload: { bindings?: unknown[]; dryRun?: boolean; onlyIfUnbound?: boolean }) => {
      sent.push(subject);
      if (subject === 'access.bindings.replace' && !payload.dryRun) {
        replacements.push(payload.bindings);
        conditions.push(payload.onlyIfUnbound);
      }
      if (subject === 'access.bindings.remove-principal') removals.push(payload);
      if (subject === failing) return Promise.reject(new DomainError(code, 'away', details));
      return Promise.resolve(answers[subject] ?? {});
    },
  } as unknown as RpcSender;
  return { rpc, sent, replacements, conditions, removals };
}

describe('removing someone from an account', () => {
  it.each([
    ['a user', (rpc: RpcSender) => new UsersComposer(rpc, quiet).remove(actor, ACCOUNT, client, TARGET)],
    ['an invitation', (rpc: RpcSender) => new UsersComposer(rpc, quiet).revokeInvitation(actor, ACCOUNT, client, TARGET)],
    ['a subuser', (rpc: RpcSender) => new SubusersComposer(rpc, quiet).remove(actor, ACCOUNT, client, TARGET)],
  ])('(%s) has access judge the actor in the change that unbinds, not only in the dry run before', async (_label, remove) => {
    const fine = recordingSender();
    await remove(fine.rpc);
    expect(fine.removals[0]).toEqual({ actor: { type: 'user', id: actor.id }, accountId: ACCOUNT, principal: { type: expect.any(String), id: TARGET } });
  });

  /** A sender where identity answers the target until `removal` is sent, then `afterwards` (by default: it is not there). */
  function outAfter(removal: string, afterwards: () => Promise<unknown> = () => Promise.reject(new DomainError(ErrorCode.NotFound, 'User not found'))) {
    const base = recordingSender();
    let removed = false;
    const rpc = {
      send: (subject: string, payload: unknown) => {
        if (subject === removal) removed = true;
        if (removed && subject.endsWith('.get')) return (base.sent.push(subject), afterwards());
        return base.rpc.send(subject as never, payload as never);
      },
    } as unknown as RpcSender;
    return { ...base, rpc };
  }

  const REMOVALS = [
    ['a user', (rpc: RpcSender, logger = quiet) => new UsersComposer(rpc, logger).remove(actor, ACCOUNT, client, TARGET), 'identity.users.remove'],
    [
      'an invitation',
      (rpc: RpcSender, logger = quiet) => new UsersComposer(rpc, logger).revokeInvitation(actor, ACCOUNT, client, TARGET),
      'identity.users.invitation.revoke',
    ],
    ['a subuser', (rpc: RpcSender, logger = quiet) => new SubusersComposer(rpc, logger).remove(actor, ACCOUNT, client, TARGET), 'identity.subusers.remove'],
  ] as const;

  it.each(REMOVALS)(
    '(%s) unbinds again once identity took them out: a rebinding that raced the removal does not outlive it',
    async (_label, remove, removal) => {
      const gone = outAfter(removal);
      await remove(gone.rpc);
      expect(gone.sent.at(-1)).toBe('access.bindings.remove-principal');
      expect(gone.removals).toHaveLength(2);
      // Not judged (no actor), the caller named for the audit trail.
      expect(gone.removals[1]).toEqual({ accountId: ACCOUNT, principal: { type: expect.any(String), id: TARGET }, by: { type: 'user', id: actor.id } });

      // The removal is done: should that second unbinding fail, it is logged, not answered as a failure.
      const warnings: string[] = [];
      const logger = { warn: (_fields: object, message: string) => void warnings.push(message) } as Pick<Logger, 'warn'>;
      let unbindings = 0;
      const inner = outAfter(removal);
      const secondFails = {
        send: (subject: string, payload: unknown) => {
          if (subject === 'access.bindings.remove-principal' && (unbindings += 1) === 2)
            return Promise.reject(new DomainError(ErrorCode.UpstreamTimeout, 'away'));
          return inner.rpc.send(subject as never, payload as never);
        },
      } as unknown as RpcSender;
      await expect(remove(secondFails, logger)).resolves.toBeUndefined();
      expect(warnings).toEqual([expect.stringContaining('Could not unbind again')]);
    },
  );

  it.each([
    ['added again in that moment (identity answers them)', () => Promise.resolve({ id: TARGET, status: 'active' })],
    ['the remover no longer works in the account (identity cannot say)', () => Promise.reject(new DomainError(ErrorCode.NotFound, 'Account not found'))],
  ])('(a person) is not unbound again when %s: the roles they hold stay', async (_label, afterwards) => {
    const back = outAfter('identity.users.remove', afterwards);
    await new UsersComposer(back.rpc, quiet).remove(actor, ACCOUNT, client, TARGET);
    expect(back.removals).toHaveLength(1);
  });

  it.each([
    ['a user', (rpc: RpcSender) => new UsersComposer(rpc, quiet).remove(actor, ACCOUNT, client, TARGET), 'identity.users.remove'],
    ['an invitation', (rpc: RpcSender) => new UsersComposer(rpc, quiet).revokeInvitation(actor, ACCOUNT, client, TARGET), 'identity.users.invitation.revoke'],
    ['a subuser', (rpc: RpcSender) => new SubusersComposer(rpc, quiet).remove(actor, ACCOUNT, client, TARGET), 'identity.subusers.remove'],
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

describe('leaving an account', () => {
  it('unbinds, has identity take the person out, then unbinds again (a role given in between does not outlive the departure)', async () => {
    const fine = recordingSender();
    const rpc = {
      send: (subject: string, payload: unknown) =>
        subject === 'access.roles.of-principal' ? (fine.sent.push(subject), Promise.resolve({})) : fine.rpc.send(subject as never, payload as never),
    } as unknown as RpcSender;
    await leaveAccount(rpc, actor, ACCOUNT, '10.0.0.1', quiet);
    expect(fine.sent.slice(-3)).toEqual(['access.bindings.remove-principal', 'identity.me.leave', 'access.bindings.remove-principal']);
    expect(fine.removals).toEqual([
      { accountId: ACCOUNT, principal: { type: 'user', id: actor.id } },
      { accountId: ACCOUNT, principal: { type: 'user', id: actor.id } },
    ]);
  });
});

describe('a role change racing a removal', () => {
  /** A sender where identity answers the target on every read until `removedAfterReads` reads, then NOT_FOUND (a removal took it out meanwhile). */
  function removedMeanwhile(getSubject: string, removedAfterReads: number) {
    const base = recordingSender();
    let reads = 0;
    const rpc = {
      send: (subject: string, payload: unknown) => {
        if (subject === getSubject && (reads += 1) > removedAfterReads) {
          base.sent.push(subject);
          return Promise.reject(new DomainError(ErrorCode.NotFound, 'No such member in this account'));
        }
        return base.rpc.send(subject as never, payload as never);
      },
    } as unknown as RpcSender;
    return { ...base, rpc };
  }

  it.each([
    ['a person', 'identity.users.get', (rpc: RpcSender) => new UsersComposer(rpc, quiet).update(actor, ACCOUNT, client, TARGET, { role: 'Developer' })],
    [
      'a subuser',
      'identity.subusers.get',
      (rpc: RpcSender) => new SubusersComposer(rpc, quiet).update(actor, ACCOUNT, client, TARGET, { roles: ['Developer'], applicationIds: [APP] }),
    ],
  ])('(%s) taken out after the edit read them: the roles written are unbound again, and the edit answers 404', async (_label, getSubject, update) => {
    const raced = removedMeanwhile(getSubject, 1);
    await expect(update(raced.rpc)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    const written = raced.sent.lastIndexOf('access.bindings.replace');
    expect(written).toBeGreaterThan(-1);
    expect(raced.sent.slice(written + 1)).toEqual([getSubject, 'access.bindings.remove-principal']);
    expect(raced.removals).toEqual([{ accountId: ACCOUNT, principal: { type: expect.any(String), id: TARGET }, by: { type: 'user', id: actor.id } }]);

    // Still there: nothing is unbound.
    const still = removedMeanwhile(getSubject, Infinity);
    await update(still.rpc);
    expect(still.removals).toEqual([]);
  });

  it('(a person) keeps their roles when the read fails because the editor no longer works in the account, not because they left', async () => {
    const base = recordingSender();
    let reads = 0;
    const rpc = {
      send: (subject: string, payload: unknown) =>
        subject === 'identity.users.get' && (reads += 1) > 1
          ? Promise.reject(new DomainError(ErrorCode.NotFound, 'Account not found'))
          : base.rpc.send(subject as never, payload as never),
    } as unknown as RpcSender;
    await expect(new UsersComposer(rpc, quiet).update(actor, ACCOUNT, client, TARGET, { role: 'Developer' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(base.removals).toEqual([]);
  });
});

describe('revoking an invitation', () => {
  const revoke = (rpc: RpcSender) => new UsersComposer(rpc, quiet).revokeInvitation(actor, ACCOUNT, client, TARGET);

  it('of someone who already activated is refused (409) before anything is unbound', async () => {
    const active = recordingSender(undefined, 'active');
    await expect(revoke(active.rpc)).rejects.toMatchObject({ code: 'CONFLICT' });
    expect(active.sent).not.toContain('access.bindings.remove-principal');
  });

  it.each([
    ['refuses (the person activated meanwhile)', ErrorCode.Conflict],
    ['answers a 503 that did nothing (no identity answering)', ErrorCode.ServiceUnavailable],
  ])('gives the roles back when identity %s after the unbinding', async (_case, code) => {
    const refused = recordingSender('identity.users.invitation.revoke', 'pending', code, undefined, { removed: 1, bindings: [DEVELOPER] });
    await expect(revoke(refused.rpc)).rejects.toMatchObject({ code });
    expect(refused.replacements).toEqual([[{ role: 'builtin:Developer', applicationIds: null }]]);
    // Only while they hold nothing: a role someone gave them since the unbinding is not overwritten.
    expect(refused.conditions).toEqual([true]);
  });

  it('gives back what was read, without the condition, when the unbinding was answered by an access of the release before (which refuses it)', async () => {
    const refused = recordingSender('identity.users.invitation.revoke', 'pending', ErrorCode.Conflict);
    await expect(revoke(refused.rpc)).rejects.toMatchObject({ code: 'CONFLICT' });
    expect(refused.replacements).toEqual([[{ role: 'builtin:Developer', applicationIds: null }]]);
    expect(refused.conditions).toEqual([undefined]);
  });

  it('gives nothing back when identity answers that the person is gone (a removal took them meanwhile)', async () => {
    const gone = recordingSender('identity.users.invitation.revoke', 'pending', ErrorCode.NotFound, undefined, { removed: 1, bindings: [DEVELOPER] });
    await expect(revoke(gone.rpc)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(gone.replacements).toEqual([]);
  });

  it('gives back what the unbinding answers it took (a role given between the read and the unbinding), not what was read', async () => {
    const support = { roleId: 'builtin:Support', role: 'Support', applicationIds: [APP] };
    const refused = recordingSender('identity.users.invitation.revoke', 'pending', ErrorCode.Conflict, undefined, { removed: 1, bindings: [support] });
    await expect(revoke(refused.rpc)).rejects.toMatchObject({ code: 'CONFLICT' });
    expect(refused.replacements).toEqual([[{ role: 'builtin:Support', applicationIds: [APP] }]]);
  });

  it("answers identity's refusal, and warns, when the roles cannot be given back (someone gave them others since)", async () => {
    const sent: string[] = [];
    const rpc = {
      send: (subject: string, payload: { dryRun?: boolean }) => {
        sent.push(subject);
        if (subject === 'identity.users.invitation.revoke') return Promise.reject(new DomainError(ErrorCode.Conflict, 'activated'));
        if (subject === 'access.bindings.replace' && !payload.dryRun) return Promise.reject(new DomainError(ErrorCode.Conflict, 'given roles since'));
        if (subject === 'identity.users.get') return Promise.resolve({ id: TARGET, status: 'pending' });
        if (subject === 'access.bindings.of-principals') return Promise.resolve({ [TARGET]: [DEVELOPER] });
        return Promise.resolve({ removed: 1, bindings: [DEVELOPER] });
      },
    } as unknown as RpcSender;
    const warnings: string[] = [];
    const logger = { warn: (_fields: object, message: string) => void warnings.push(message) } as Pick<Logger, 'warn'>;
    await expect(new UsersComposer(rpc, logger).revokeInvitation(actor, ACCOUNT, client, TARGET)).rejects.toMatchObject({ message: 'activated' });
    expect(warnings).toEqual([expect.stringContaining('could not give back the roles')]);
  });

  it.each([
    ['lost', ErrorCode.UpstreamTimeout, undefined],
    ['a 503 of unknown outcome (its database went in the middle of the commit)', ErrorCode.ServiceUnavailable, { outcome: 'unknown' }],
  ])(
    "gives nothing back when identity's answer is %s (the person may be out of the account by then): never a non-member holding roles",
    async (_case, code, details) => {
      const unanswered = recordingSender('identity.users.invitation.revoke', 'pending', code, details);
      await expect(revoke(unanswered.rpc)).rejects.toMatchObject({ code });
      expect(unanswered.sent).toContain('access.bindings.remove-principal');
      expect(unanswered.replacements).toEqual([]);
    },
  );
});

const APP = '00000000-0000-4000-8000-0000000000ab';

/** Adding someone, as a person or as a subuser: the subjects of identity's side, and what access is to bind. */
const ADDITIONS = [
  {
    label: 'a person',
    add: (rpc: RpcSender, logger = quiet) =>
      new UsersComposer(rpc, logger).create(actor, ACCOUNT, client, {
        firstName: 'Ada',
        lastName: 'L',
        email: 'Ada@Engines.test',
        phone: '+33612345678',
        role: 'Developer',
      }),
    subjects: { create: 'identity.users.create', list: 'identity.users.list', remove: 'identity.users.remove' },
    bound: [{ role: 'Developer' }],
  },
  {
    label: 'a subuser',
    add: (rpc: RpcSender, logger = quiet) =>
      new SubusersComposer(rpc, logger).create(actor, ACCOUNT, client, { login: 'Desk-1', password: 'x', roles: ['Developer'], applicationIds: [APP] }),
    subjects: { create: 'identity.subusers.create', list: 'identity.subusers.list', remove: 'identity.subusers.remove' },
    bound: [{ role: 'Developer', applicationIds: [APP] }],
  },
];

describe.each(ADDITIONS)('adding $label when an answer is lost (a replica died, or is slow)', ({ add, subjects, bound }) => {
  const lost = () => Promise.reject(new DomainError(ErrorCode.UpstreamTimeout, 'no answer in time'));

  /**
   * A sender where the first `times` sends of `failing` (dry runs aside) fail with `code` (no answer
   * in time by default); it records every subject, the request keys of identity's adds, and the bindings made.
   */
  function sender(failing: string, times = Infinity, code = ErrorCode.UpstreamTimeout, details?: unknown) {
    const sent: string[] = [];
    const keys: unknown[] = [];
    const replaced: Array<{ id: string; bindings: unknown }> = [];
    let failures = 0;
    const rpc = {
      send: (subject: string, payload: { dryRun?: boolean; principal?: { id: string }; bindings?: unknown; requestKey?: unknown }) => {
        sent.push(subject);
        if (subject === subjects.create) keys.push(payload.requestKey);
        if (subject === failing && !payload.dryRun && failures < times) {
          failures += 1;
          return code === ErrorCode.UpstreamTimeout ? lost() : Promise.reject(new DomainError(code, 'refused', details));
        }
        if (subject === 'access.bindings.replace' && !payload.dryRun) replaced.push({ id: payload.principal!.id, bindings: payload.bindings });
        if (subject === subjects.create) return Promise.resolve({ id: TARGET });
        return Promise.resolve({});
      },
    } as unknown as RpcSender;
    return { rpc, sent, keys, replaced };
  }

  it('sends the add with a key of its own, and a lost add once more with the same key', async () => {
    const first = sender(subjects.create, 1);
    await add(first.rpc);
    const second = sender(subjects.create, 1);
    await add(second.rpc);
    expect(first.keys).toEqual([expect.stringMatching(/^[0-9a-f-]{36}$/), first.keys[0]]);
    expect(second.keys[0]).not.toEqual(first.keys[0]);
  });

  it('binds whom the add sent again answers, and answers success (not 504), warning of the retry and its outcome', async () => {
    const retried = sender(subjects.create, 1);
    const warnings: string[] = [];
    const logger = { warn: (_fields: object, message: string) => void warnings.push(message) } as Pick<Logger, 'warn'>;
    await expect(add(retried.rpc, logger)).resolves.toMatchObject({ id: TARGET });
    expect(retried.replaced).toEqual([{ id: TARGET, bindings: [expect.objectContaining(bound[0])] }]);
    expect(warnings).toEqual([expect.stringContaining('sending it again with the same key'), expect.stringContaining('binding as usual')]);
  });

  it('binds nothing when the add sent again fails too, and answers its error', async () => {
    const lostTwice = sender(subjects.create, 2);
    await expect(add(lostTwice.rpc)).rejects.toMatchObject({ code: 'UPSTREAM_TIMEOUT' });
    expect(lostTwice.keys).toHaveLength(2);
    expect(lostTwice.replaced).toEqual([]);
    expect(lostTwice.sent).not.toContain(subjects.remove);
  });

  it('sends an add answered 503 of unknown outcome once more with the same key (identity lost its database in the middle of the commit)', async () => {
    const unsure = sender(subjects.create, 1, ErrorCode.ServiceUnavailable, { outcome: 'unknown' });
    await expect(add(unsure.rpc)).resolves.toMatchObject({ id: TARGET });
    expect(unsure.keys).toEqual([expect.stringMatching(/^[0-9a-f-]{36}$/), unsure.keys[0]]);
    expect(unsure.replaced).toEqual([{ id: TARGET, bindings: [expect.objectContaining(bound[0])] }]);
  });

  it("sends an add answered 503 that did nothing (argon2's queue full, no identity answering) only once", async () => {
    const refused = sender(subjects.create, 1, ErrorCode.ServiceUnavailable);
    await expect(add(refused.rpc)).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
    expect(refused.keys).toHaveLength(1);
    expect(refused.replaced).toEqual([]);
  });

  it('sends a refused add (an answer, not a lost one) only once', async () => {
    const refused = sender(subjects.create, 1, ErrorCode.Conflict);
    await expect(add(refused.rpc)).rejects.toMatchObject({ code: 'CONFLICT' });
    expect(refused.keys).toHaveLength(1);
    expect(refused.replaced).toEqual([]);
  });

  it('never searches identity for whom it may have added (by e-mail or login): the key alone tells', async () => {
    const lostTwice = sender(subjects.create, 2);
    await expect(add(lostTwice.rpc)).rejects.toMatchObject({ code: 'UPSTREAM_TIMEOUT' });
    expect(lostTwice.sent).not.toContain(subjects.list);
    expect(lostTwice.sent).not.toContain('access.bindings.of-principals');
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

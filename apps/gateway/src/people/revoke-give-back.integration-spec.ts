import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { Subjects, type Principal } from '#libs/contracts/index.js';
import { DomainError, ErrorCode } from '#libs/errors/index.js';
import type { RpcSender } from '#libs/platform/index.js';
import { BUILTIN_ROLE_PREFIX } from '../../../access/src/checks/decision-store.js';
import { freshAccessServices } from '../../../access/src/state/services-harness-spec.js';
import { UsersComposer } from '../users/users.composer.js';

const access = freshAccessServices();
const client = { ip: '10.0.0.7' };
const quiet: Pick<Logger, 'warn'> = { warn: () => undefined };
const sessionId = '00000000-0000-4000-8000-000000000000';

/** What happens in the middle of a revocation: just before the gateway unbinds, or once it has and asks identity. */
interface Meanwhile {
  beforeUnbinding?: () => Promise<unknown>;
  beforeIdentityRefuses?: () => Promise<unknown>;
  /** How identity refuses (default: CONFLICT, the person activated meanwhile). */
  identityRefusal?: DomainError;
  /** Access answers as the release before did: its unbinding says nothing of what it dropped, and it refuses the field onlyIfUnbound (400). */
  accessOfReleaseBefore?: boolean;
}

/**
 * A sender to a real access (its services, in this process) and an identity that sees the person
 * pending and then refuses the revocation (they activated meanwhile): as the gateway's calls meet
 * an owner's change at the given points.
 */
function sender(meanwhile: Meanwhile): RpcSender {
  const answers: Record<string, (payload: never) => Promise<unknown>> = {
    [Subjects.UsersGet]: (payload: { userId: string }) => Promise.resolve({ id: payload.userId, status: 'pending' }),
    [Subjects.AccessBindingsOfPrincipals]: (payload) => Promise.resolve(access.bindings.ofPrincipals(payload)),
    [Subjects.AccessBindingsReplace]: (payload: { onlyIfUnbound?: boolean }) => {
      if (meanwhile.accessOfReleaseBefore && 'onlyIfUnbound' in payload)
        return Promise.reject(new DomainError(ErrorCode.ValidationFailed, 'property onlyIfUnbound should not exist'));
      return access.bindings.replace(payload as never);
    },
    [Subjects.AccessBindingsRemovePrincipal]: async (payload) => {
      await meanwhile.beforeUnbinding?.();
      const { removed, bindings } = await access.bindings.removePrincipal(payload);
      return meanwhile.accessOfReleaseBefore ? { removed } : { removed, bindings };
    },
    [Subjects.UsersInvitationRevoke]: async () => {
      await meanwhile.beforeIdentityRefuses?.();
      throw meanwhile.identityRefusal ?? new DomainError(ErrorCode.Conflict, 'This person has already activated their access');
    },
  };
  return { send: (subject: string, payload: never) => answers[subject](payload) } as unknown as RpcSender;
}

/** An account whose owner and an Admin are there, and a pending person holding Developer; the Admin revokes their invitation. */
async function revocation() {
  const { accountId, actor: owner } = await access.account();
  const [admin, person]: Principal[] = [
    { type: 'user', id: randomUUID() },
    { type: 'user', id: randomUUID() },
  ];
  await access.bind(accountId, admin, `${BUILTIN_ROLE_PREFIX}Admin`);
  await access.bind(accountId, person, `${BUILTIN_ROLE_PREFIX}Developer`);
  const ownerChangesTheirRole = () => access.bindings.replace({ actor: owner, accountId, principal: person, bindings: [{ role: 'Support' }] });
  const revoke = (meanwhile: Meanwhile) => new UsersComposer(sender(meanwhile), quiet).revokeInvitation({ ...admin, sessionId }, accountId, client, person.id);
  const rolesOfPerson = async () => (await access.bindings.ofPrincipals({ accountId, principals: [person] }))[person.id].map((binding) => binding.roleId);
  return { ownerChangesTheirRole, revoke, rolesOfPerson };
}

describe('a revocation identity refuses (the person activated meanwhile) gives the roles back', () => {
  it('as they were, when nothing changed them meanwhile', async () => {
    const { revoke, rolesOfPerson } = await revocation();
    await expect(revoke({})).rejects.toMatchObject({ code: 'CONFLICT' });
    expect(await rolesOfPerson()).toEqual([`${BUILTIN_ROLE_PREFIX}Developer`]);
  });

  it("never over an owner's change made after the unbinding: the owner's role stays", async () => {
    const { ownerChangesTheirRole, revoke, rolesOfPerson } = await revocation();
    await expect(revoke({ beforeIdentityRefuses: ownerChangesTheirRole })).rejects.toMatchObject({ code: 'CONFLICT' });
    expect(await rolesOfPerson()).toEqual([`${BUILTIN_ROLE_PREFIX}Support`]);
  });

  it("as the unbinding took them, when an owner's change came between the gateway's read and its unbinding: the owner's role, not the one read", async () => {
    const { ownerChangesTheirRole, revoke, rolesOfPerson } = await revocation();
    await expect(revoke({ beforeUnbinding: ownerChangesTheirRole })).rejects.toMatchObject({ code: 'CONFLICT' });
    expect(await rolesOfPerson()).toEqual([`${BUILTIN_ROLE_PREFIX}Support`]);
  });

  it('as they were read, from an access of the release before (its unbinding does not say what it dropped, and it refuses onlyIfUnbound)', async () => {
    const { revoke, rolesOfPerson } = await revocation();
    await expect(revoke({ accessOfReleaseBefore: true })).rejects.toMatchObject({ code: 'CONFLICT' });
    expect(await rolesOfPerson()).toEqual([`${BUILTIN_ROLE_PREFIX}Developer`]);
  });
});

describe('a revocation identity refuses as the person is gone (a removal took them meanwhile)', () => {
  it('gives nothing back: they hold nothing', async () => {
    const { revoke, rolesOfPerson } = await revocation();
    await expect(revoke({ identityRefusal: new DomainError(ErrorCode.NotFound, 'User not found') })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(await rolesOfPerson()).toEqual([]);
  });
});

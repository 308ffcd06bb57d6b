import type { Logger } from 'pino';
import { Subjects, type UpdateSubuserBody } from '#libs/contracts/index.js';
import { DomainError, ErrorCode } from '#libs/errors/index.js';
import type { RpcSender } from '#libs/platform/index.js';
import { freshAccessServices } from '../../../access/src/state/services-harness-spec.js';
import { SubusersComposer } from './subusers.composer.js';

const access = freshAccessServices();
const client = { ip: '10.0.0.7' };
const quiet: Pick<Logger, 'warn'> = { warn: () => undefined };
const sessionId = '00000000-0000-4000-8000-000000000000';

/**
 * A sender to a real access (its services, in this process) and an identity that finds the subuser
 * and edits it; `beforeReplacing` are owner's changes, the first landing just before the gateway's
 * first replacement of the subuser's bindings (after its read and its dry run), the next before the
 * next one.
 */
function sender(beforeReplacing: Array<() => Promise<unknown>>): RpcSender {
  const answers: Record<string, (payload: never) => Promise<unknown>> = {
    [Subjects.SubusersGet]: (payload: { subuserId: string }) => Promise.resolve({ id: payload.subuserId }),
    [Subjects.SubusersUpdate]: (payload: { subuserId: string }) => Promise.resolve({ id: payload.subuserId }),
    [Subjects.AccessBindingsOfPrincipals]: (payload) => Promise.resolve(access.bindings.ofPrincipals(payload)),
    [Subjects.AccessBindingsReplace]: async (payload: { dryRun?: boolean }) => {
      if (!payload.dryRun) await beforeReplacing.shift()?.();
      return access.bindings.replace(payload as never);
    },
  };
  return { send: (subject: string, payload: never) => answers[subject](payload) } as unknown as RpcSender;
}

/** An Admin's edit of a subuser (`accountWithSubuser` of the access services) while the owner changes it. */
async function subuserEdit() {
  const { accountId, owner, admin, subuser, first, second } = await access.accountWithSubuser();
  const ownerSets = (roles: string[], applicationIds: string[]) => () =>
    access.bindings.replace({ actor: owner, accountId, principal: subuser, bindings: roles.map((role) => ({ role, applicationIds })) });
  const edit = (body: UpdateSubuserBody, ...meanwhile: Array<() => Promise<unknown>>) =>
    new SubusersComposer(sender(meanwhile), quiet).update({ ...admin, sessionId }, accountId, client, subuser.id, body);
  const held = async () =>
    (await access.bindings.ofPrincipals({ accountId, principals: [subuser] }))[subuser.id].map((binding) => [
      binding.role,
      [...(binding.applicationIds ?? [])].sort(),
    ]);
  return { first, second, ownerSets, edit, held };
}

describe("an Admin's edit of only a subuser's applications or only its roles, when the owner changes them between the Admin's read and its write", () => {
  it("keeps the owner's change: a role the owner took away does not come back with the new applications", async () => {
    const { first, second, ownerSets, edit, held } = await subuserEdit();
    const view = await edit({ applicationIds: [first, second] }, ownerSets(['Developer'], [first]));
    expect(await held()).toEqual([['Developer', [first, second].sort()]]);
    expect(view).toMatchObject({ roles: ['Developer'] });
  });

  it("keeps the owner's change: the new roles keep the applications the owner limited the subuser to, not those read", async () => {
    const { second, ownerSets, edit, held } = await subuserEdit();
    const view = await edit({ roles: ['Support'] }, ownerSets(['Developer', 'Support'], [second]));
    expect(await held()).toEqual([['Support', [second]]]);
    expect(view).toMatchObject({ roles: ['Support'], applicationIds: [second] });
  });

  it("answers 409 bindings-changed when the owner changes them again before the edit's second try, and leaves the owner's last change", async () => {
    const { first, second, ownerSets, edit, held } = await subuserEdit();
    await expect(edit({ applicationIds: [first, second] }, ownerSets(['Developer'], [first]), ownerSets(['Support'], [second]))).rejects.toMatchObject({
      code: 'CONFLICT',
      details: { reason: 'bindings-changed' },
    });
    expect(await held()).toEqual([['Support', [second]]]);
  });
});

describe("an Admin's edit of both a subuser's roles and applications", () => {
  it('replaces them whatever changed since its read: nothing is built from the read, so the later edit stands (no 409 bindings-changed)', async () => {
    const { first, second, ownerSets, edit, held } = await subuserEdit();
    const view = await edit({ roles: ['Support'], applicationIds: [second] }, ownerSets(['Developer'], [first]), ownerSets(['Support'], [first]));
    expect(await held()).toEqual([['Support', [second]]]);
    expect(view).toMatchObject({ roles: ['Support'], applicationIds: [second] });
  });
});

describe("an Admin's edit of only a subuser's roles while the subuser is deleted", () => {
  it('answers 404 (the subuser is gone), not 400 asking for the applications of a subuser the deletion left holding nothing', async () => {
    const { accountId, admin, subuser } = await access.accountWithSubuser();
    let reads = 0;
    const answers: Record<string, (payload: never) => Promise<unknown>> = {
      // The deletion unbinds it as the edit first reads it, and identity deletes it before the edit reads it again.
      [Subjects.SubusersGet]: async () => {
        reads += 1;
        if (reads > 1) throw new DomainError(ErrorCode.NotFound, 'Subuser not found');
        await access.bindings.removePrincipal({ accountId, principal: subuser });
        return { id: subuser.id };
      },
      [Subjects.AccessBindingsOfPrincipals]: (payload) => Promise.resolve(access.bindings.ofPrincipals(payload)),
      [Subjects.AccessBindingsReplace]: (payload) => access.bindings.replace(payload),
    };
    const rpc = { send: (subject: string, payload: never) => answers[subject](payload) } as unknown as RpcSender;
    const edit = new SubusersComposer(rpc, quiet).update({ ...admin, sessionId }, accountId, client, subuser.id, { roles: ['Support'] });
    await expect(edit).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('keeps the 400 when the read that looks for the subuser fails otherwise (no answer in time): the body is what it says', async () => {
    const { accountId, admin, subuser } = await access.accountWithSubuser();
    await access.bindings.removePrincipal({ accountId, principal: subuser });
    let reads = 0;
    const answers: Record<string, (payload: never) => Promise<unknown>> = {
      [Subjects.SubusersGet]: () => {
        reads += 1;
        return reads > 1 ? Promise.reject(new DomainError(ErrorCode.UpstreamTimeout, 'identity did not answer in time')) : Promise.resolve({ id: subuser.id });
      },
      [Subjects.AccessBindingsOfPrincipals]: (payload) => Promise.resolve(access.bindings.ofPrincipals(payload)),
      [Subjects.AccessBindingsReplace]: (payload) => access.bindings.replace(payload),
    };
    const rpc = { send: (subject: string, payload: never) => answers[subject](payload) } as unknown as RpcSender;
    const edit = new SubusersComposer(rpc, quiet).update({ ...admin, sessionId }, accountId, client, subuser.id, { roles: ['Support'] });
    await expect(edit).rejects.toMatchObject({ code: 'VALIDATION_FAILED', details: { field: 'applicationIds' } });
    expect(reads).toBe(2);
  });
});

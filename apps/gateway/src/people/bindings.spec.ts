import { OmitType } from '@nestjs/swagger';
import { RemovePrincipalRequest, ReplaceBindingsRequest } from '#libs/contracts/index.js';
import { DomainError, ErrorCode } from '#libs/errors/index.js';
import { createValidationPipe, type RpcSender } from '#libs/platform/index.js';
import { applicationsOf, asInput, Bindings, inBodyTerms, PERSON_BINDING_FIELDS, roleIds, roleNames } from './bindings.js';

const admin = { roleId: 'r1', role: 'Admin', applicationIds: null };
const dev = (applicationIds: string[] | null) => ({ roleId: 'r2', role: 'Developer', applicationIds });

describe('binding views', () => {
  it('lists role names once each', () => {
    expect(roleNames([admin, dev(['a']), dev(['b'])])).toEqual(['Admin', 'Developer']);
    expect(roleNames(undefined)).toEqual([]);
  });

  it.each([
    [
      [dev(['a', 'b']), dev(['b', 'c'])],
      ['a', 'b', 'c'],
    ],
    [[dev(['a']), admin], null],
    [[], []],
    [undefined, []],
  ])('applications of %j -> %j', (bindings, expected) => {
    expect(applicationsOf(bindings)).toEqual(expected);
  });

  it('lists role ids once each: the roles kept by an edit are sent back by id, as a name may stand for another role by then', () => {
    expect(roleIds([admin, dev(['a']), dev(['b'])])).toEqual(['r1', 'r2']);
    expect(roleIds(undefined)).toEqual([]);
  });

  it('sends a binding back by role id', () => {
    expect(asInput(dev(['a']))).toEqual({ role: 'r2', applicationIds: ['a'] });
  });
});

describe('refusals of access in the terms of the body', () => {
  const subuserFields = { role: (index: number) => `roles.${index}`, applicationIds: () => 'applicationIds' };
  const refusal = (message: string, details?: unknown) => new DomainError(ErrorCode.ValidationFailed, message, details);
  const renamed = (error: unknown) => {
    try {
      inBodyTerms(error, subuserFields);
    } catch (thrown) {
      return thrown;
    }
    throw new Error('expected a refusal');
  };

  it('names the field as the body does', () => {
    expect(renamed(refusal('bindings.1.role: no role "Nope" in this account', { field: 'bindings.1.role' }))).toMatchObject({
      code: 'VALIDATION_FAILED',
      message: 'roles.1: no role "Nope" in this account',
      details: { field: 'roles.1' },
    });
    expect(renamed(refusal('bindings.0.applicationIds: unknown application x'))).toMatchObject({ message: 'applicationIds: unknown application x' });
  });

  it("names the fields of a validation's list of problems and broken fields as the body does too", () => {
    const details = { problems: ['bindings.0.applicationIds must be an array'], field: 'bindings.0.applicationIds', fields: ['bindings.0.applicationIds'] };
    expect(renamed(refusal('bindings.0.applicationIds must be an array', details))).toMatchObject({
      details: { problems: ['applicationIds must be an array'], field: 'applicationIds', fields: ['applicationIds'] },
    });
  });

  it('passes other errors on unchanged', () => {
    const forbidden = new DomainError(ErrorCode.Forbidden, 'You cannot grant a permission you lack');
    expect(renamed(forbidden)).toBe(forbidden);
  });
});

describe('a replacement through an access of an earlier release (a rolling upgrade)', () => {
  /** What the access of the release before validates a replacement against: it knows no `client`. */
  class RequestOfTheReleaseBefore extends OmitType(ReplaceBindingsRequest, ['client'] as const) {}
  /** What the access of the release before that one validates against: it knows neither `client` nor `expected`. */
  class RequestOfTwoReleasesBefore extends OmitType(ReplaceBindingsRequest, ['client', 'expected'] as const) {}
  const ACCOUNT = '00000000-0000-4000-8000-00000000000a';
  const principal = { type: 'subuser' as const, id: '00000000-0000-4000-8000-00000000000b' };
  const actor = { type: 'user' as const, id: '00000000-0000-4000-8000-000000000001', sessionId: '00000000-0000-4000-8000-000000000002' };
  const client = { ip: '203.0.113.7' };
  const developer = dev(['00000000-0000-4000-8000-0000000000ab']);
  const withoutClient = { actor: { type: 'user', id: actor.id }, accountId: ACCOUNT, principal, bindings: [asInput(developer)] };
  const replacement = { ...withoutClient, client };

  /** A sender to such an access: it validates each replacement as that release does, and records it. */
  function oldAccess(metatype: new () => object) {
    const pipe = createValidationPipe();
    const sent: unknown[] = [];
    const rpc = {
      send: async (_subject: string, payload: object) => {
        sent.push(payload);
        await pipe.transform(payload, { type: 'body', metatype });
        return [];
      },
    } as unknown as RpcSender;
    return { rpc, sent };
  }

  it('sends an edit again without `client`, which the access of the release before refuses as unknown (400): the condition stays', async () => {
    const { rpc, sent } = oldAccess(RequestOfTheReleaseBefore);
    await new Bindings(rpc, PERSON_BINDING_FIELDS).edit(actor, client, ACCOUNT, principal, [developer], (held) => held.map(asInput));
    const expected = [asInput(developer)];
    expect(sent).toEqual([
      { ...replacement, expected },
      { ...withoutClient, expected },
    ]);
  });

  it('sends an edit again without `client` and `expected` to the access of two releases before: the edit is made, as that release made it', async () => {
    const { rpc, sent } = oldAccess(RequestOfTwoReleasesBefore);
    await new Bindings(rpc, PERSON_BINDING_FIELDS).edit(actor, client, ACCOUNT, principal, [developer], (held) => held.map(asInput));
    expect(sent).toEqual([{ ...replacement, expected: [asInput(developer)] }, withoutClient]);
  });

  it('sends a plain replacement again without `client`', async () => {
    const { rpc, sent } = oldAccess(RequestOfTheReleaseBefore);
    await new Bindings(rpc, PERSON_BINDING_FIELDS).replace(actor, client, ACCOUNT, principal, [asInput(developer)]);
    expect(sent).toEqual([replacement, withoutClient]);
  });

  it("passes on that access's refusal of the replacement sent again, in the terms of the body", async () => {
    const { rpc, sent } = oldAccess(RequestOfTwoReleasesBefore);
    const edit = new Bindings(rpc, PERSON_BINDING_FIELDS).edit(actor, client, ACCOUNT, principal, [developer], () => [{ role: '' }]);
    await expect(edit).rejects.toMatchObject({ code: 'VALIDATION_FAILED', message: 'role must be 1 to 100 characters' });
    expect(sent).toHaveLength(2);
  });

  it('does not send again a replacement refused for anything else', async () => {
    const { rpc, sent } = oldAccess(ReplaceBindingsRequest);
    const replace = new Bindings(rpc, PERSON_BINDING_FIELDS).replace(actor, client, ACCOUNT, principal, [{ role: 'x'.repeat(101) }]);
    await expect(replace).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    expect(sent).toHaveLength(1);
  });
});

describe('a second unbinding through an access of the release before (a rolling upgrade)', () => {
  /** What that access validates an unbinding against: it knows no `by`. */
  class RemovalOfTheReleaseBefore extends OmitType(RemovePrincipalRequest, ['by'] as const) {}
  const ACCOUNT = '00000000-0000-4000-8000-00000000000a';
  const principal = { type: 'subuser' as const, id: '00000000-0000-4000-8000-00000000000b' };
  const actor = { type: 'user' as const, id: '00000000-0000-4000-8000-000000000001', sessionId: '00000000-0000-4000-8000-000000000002' };

  it('is sent again without `by`, which it refuses as unknown: the principal is unbound all the same', async () => {
    const pipe = createValidationPipe();
    const sent: unknown[] = [];
    const rpc = {
      send: async (_subject: string, payload: object) => {
        sent.push(payload);
        await pipe.transform(payload, { type: 'body', metatype: RemovalOfTheReleaseBefore });
        return { removed: 1 };
      },
    } as unknown as RpcSender;
    const warnings: unknown[] = [];
    await new Bindings(rpc, PERSON_BINDING_FIELDS).unbindLeaver(ACCOUNT, principal, { warn: (...args: unknown[]) => void warnings.push(args) }, { by: actor });
    const unbinding = { accountId: ACCOUNT, principal };
    expect(sent).toEqual([{ ...unbinding, by: { type: 'user', id: actor.id } }, unbinding]);
    expect(warnings).toEqual([]);
  });
});

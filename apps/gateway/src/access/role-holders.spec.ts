import { Subjects, type Actor, type CheckRequest, type RoleHolderPageView } from '#libs/contracts/index.js';
import { DomainError, ErrorCode } from '#libs/errors/index.js';
import type { RpcSender } from '#libs/platform/index.js';
import type { DecisionCache } from '../auth/decision-cache.js';
import { namedRoleHolders } from './role-holders.js';

const ACCOUNT = '00000000-0000-4000-8000-00000000000a';
const actor = { type: 'user', id: '00000000-0000-4000-8000-000000000001', sessionId: '00000000-0000-4000-8000-000000000002' } as Actor;
const person = { type: 'user' as const, id: '00000000-0000-4000-8000-000000000003' };
const HOLDERS: RoleHolderPageView = { items: [{ principal: person, applicationIds: null }], nextCursor: null };

const named = () => Promise.resolve({ items: [{ principal: person, name: 'Ada Lovelace', email: 'ada@example.test' }] });

/**
 * The holders of a role through an access that holds one person and answers `allowed` to every
 * check, an identity that names them, and a decision cache with nothing cached that heard the
 * account's version `heard` (if any); `asked` holds the checks access got.
 */
function holdersRoute(heard: number | undefined, identity: () => Promise<unknown> = named) {
  const asked: CheckRequest[] = [];
  const rpc = {
    send: (subject: string, request: { checks: CheckRequest[] }) => {
      if (subject === Subjects.AccessRolesHolders) return Promise.resolve(HOLDERS);
      if (subject === Subjects.AccessCheckBatch) {
        asked.push(...request.checks);
        return Promise.resolve(request.checks.map(() => ({ allowed: true, reason: 'granted' })));
      }
      expect(subject).toBe(Subjects.PrincipalsDescribe);
      return identity();
    },
  } as unknown as RpcSender;
  const cache = { get: () => undefined, ticket: () => 0, set: () => undefined, versionHeard: () => heard } as unknown as DecisionCache;
  return { read: () => namedRoleHolders(rpc, cache, actor, { ip: '10.0.0.1' }, ACCOUNT, 'builtin:Admin', {}), asked };
}

describe("the checks that name a role's holders", () => {
  it("name the account's version this gateway heard of, as the guard's do, so that an access replica behind a revocation catches up first", async () => {
    const route = holdersRoute(42);
    expect((await route.read()).items).toEqual([{ principal: person, applicationIds: null, name: 'Ada Lovelace', email: 'ada@example.test' }]);
    expect(route.asked).toEqual([
      { principal: { type: 'user', id: actor.id }, accountId: ACCOUNT, section: 'portico.members', action: 'read', atLeastVersion: 42 },
    ]);
  });

  it.each([
    ['unreachable (503)', new DomainError(ErrorCode.ServiceUnavailable, 'No service is answering identity.principals.describe')],
    ['too slow (504)', new DomainError(ErrorCode.UpstreamTimeout, 'identity did not answer in time')],
  ])("leave them bare, as roles:read alone shows them, when identity is %s: the list is access's", async (_case, error) => {
    const route = holdersRoute(undefined, () => Promise.reject(error));
    expect(await route.read()).toEqual(HOLDERS);
  });

  it('fail on any other refusal of identity', async () => {
    const route = holdersRoute(undefined, () => Promise.reject(new DomainError(ErrorCode.NotFound, 'Account not found')));
    await expect(route.read()).rejects.toMatchObject({ code: ErrorCode.NotFound });
  });
});

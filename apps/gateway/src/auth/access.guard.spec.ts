import { Reflector } from '@nestjs/core';
import { Subjects, type Actor, type CheckRequest } from '#libs/contracts/index.js';
import { DomainError, ErrorCode } from '#libs/errors/index.js';
import type { RpcSender } from '#libs/platform/index.js';
import { AccessGuard } from './access.guard.js';
import type { DecisionCache } from './decision-cache.js';
import type { JwtStrategy } from './jwt.strategy.js';
import { RequirePermission } from './route-policy.js';
import type { SessionGate } from './session-gate.service.js';

const ACCOUNT = '00000000-0000-4000-8000-00000000000a';
const actor = { type: 'user', id: '00000000-0000-4000-8000-000000000001', sessionId: '00000000-0000-4000-8000-000000000002' } as Actor;

class UsersRoute {
  @RequirePermission('members', 'read')
  list(this: void): void {}
}

/**
 * The guard in front of `UsersRoute.list`, with nothing cached, the account's version `heard` (if
 * any) and an access that answers `answer` to each check; `asked` holds the checks it got.
 */
function guardedRoute(heard: number | undefined, answer: (question: CheckRequest) => Promise<unknown>) {
  const asked: CheckRequest[] = [];
  const rpc = {
    send: (subject: string, question: CheckRequest) => {
      expect(subject).toBe(Subjects.AccessCheck);
      asked.push(question);
      return answer(question);
    },
  } as unknown as RpcSender;
  const cache = { get: () => undefined, ticket: () => 0, set: () => undefined, versionHeard: () => heard } as unknown as DecisionCache;
  const jwt = { rememberedActor: () => Promise.resolve(actor) } as unknown as JwtStrategy;
  const gate = { isSuspended: () => false } as unknown as SessionGate;
  const guard = new AccessGuard(new Reflector(), cache, jwt, gate);
  const request = { params: { accountId: ACCOUNT }, rpc, headers: {} };
  const context = {
    getHandler: () => UsersRoute.prototype.list,
    getClass: () => UsersRoute,
    switchToHttp: () => ({ getRequest: () => request }),
  };
  return { pass: () => guard.canActivate(context as never), asked };
}

const granted = () => Promise.resolve({ allowed: true, reason: 'granted' });

describe("the access guard's checks", () => {
  it("name the account's version this gateway heard of, so that an access replica behind it catches up first", async () => {
    const route = guardedRoute(42, granted);
    await expect(route.pass()).resolves.toBe(true);
    expect(route.asked).toEqual([
      { principal: { type: 'user', id: actor.id }, accountId: ACCOUNT, section: 'portico.members', action: 'read', atLeastVersion: 42 },
    ]);
  });

  it('name none when this gateway heard of no change of the account lately', async () => {
    const route = guardedRoute(undefined, granted);
    await expect(route.pass()).resolves.toBe(true);
    expect(route.asked).toEqual([{ principal: { type: 'user', id: actor.id }, accountId: ACCOUNT, section: 'portico.members', action: 'read' }]);
  });

  it('are asked again without it of an access of the release before, which refuses it as unknown', async () => {
    const olderAccess = (question: CheckRequest) =>
      // As it reaches access: in JSON.
      'atLeastVersion' in JSON.parse(JSON.stringify(question))
        ? Promise.reject(new DomainError(ErrorCode.ValidationFailed, 'atLeastVersion should not exist', { field: 'atLeastVersion' }))
        : granted();
    const route = guardedRoute(42, olderAccess);
    await expect(route.pass()).resolves.toBe(true);
    expect(route.asked.map((question) => question.atLeastVersion)).toEqual([42, undefined]);
  });

  it('are not asked again on any other refusal', async () => {
    const route = guardedRoute(42, () => Promise.reject(new DomainError(ErrorCode.ServiceUnavailable, 'try again')));
    await expect(route.pass()).rejects.toMatchObject({ code: ErrorCode.ServiceUnavailable });
    expect(route.asked).toHaveLength(1);
  });
});

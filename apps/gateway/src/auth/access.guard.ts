import { Injectable, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import type { Request } from 'express';
import { Subjects, type Actor } from '#libs/contracts/index.js';
import { DomainError, ErrorCode } from '#libs/errors/index.js';
import { RpcClient } from '#libs/platform/index.js';
import { ROUTE_POLICY, type RoutePolicy } from './route-policy.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The one guard of every route, deny by default: a route without a policy is refused; a
 * permission route asks access for the caller's right in the `:accountId` account, answering
 * 404 when the caller has nothing there (no leak of existence) and 403 when the right is missing.
 */
@Injectable()
export class AccessGuard extends AuthGuard('jwt') {
  constructor(
    private readonly reflector: Reflector,
    private readonly rpc: RpcClient,
  ) {
    super();
  }

  override async canActivate(context: ExecutionContext): Promise<boolean> {
    const policy = this.reflector.getAllAndOverride<RoutePolicy | undefined>(ROUTE_POLICY, [context.getHandler(), context.getClass()]);
    if (!policy) throw new DomainError(ErrorCode.Forbidden, 'This route declares no access policy');
    if (policy.kind === 'public') return true;
    await super.canActivate(context);
    if (policy.kind === 'authenticated') return true;
    const request = context.switchToHttp().getRequest<Request & { user: Actor }>();
    await this.authorize(request.user, request.params.accountId, policy);
    return true;
  }

  /** Passport's verdict: any failure is the same 401. */
  override handleRequest<T>(error: unknown, actor: T): T {
    if (error || !actor) throw new DomainError(ErrorCode.Unauthenticated, 'A valid access token is required');
    return actor;
  }

  private async authorize(actor: Actor, accountId: string | string[] | undefined, policy: { section: string; action: string }): Promise<void> {
    if (typeof accountId !== 'string' || !UUID.test(accountId)) throw new DomainError(ErrorCode.NotFound, 'Account not found');
    const principal = { type: actor.type, id: actor.id };
    const decision = await this.rpc.send(Subjects.AccessCheck, { principal, accountId, section: policy.section, action: policy.action });
    if (decision.reason === 'not-member') throw new DomainError(ErrorCode.NotFound, 'Account not found');
    if (!decision.allowed) throw new DomainError(ErrorCode.Forbidden, `Missing permission ${policy.section}:${policy.action}`);
  }
}

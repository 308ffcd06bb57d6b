import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Actor } from '#libs/contracts/index.js';
import type { GatewayRequest } from '../http/request-id.middleware.js';
import { notFound } from './access.guard.js';
import { ROUTE_POLICY, type RoutePolicy } from './route-policy.js';
import { SessionGate } from './session-gate.service.js';

/**
 * Runs after the access guard: a principal suspended in the route's account (an inactive
 * membership, or one just removed) gets 404 there at once, as if it had never been a member,
 * on every replica, whatever its roles say.
 */
@Injectable()
export class SuspensionGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly gate: SessionGate,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const policy = this.reflector.getAllAndOverride<RoutePolicy | undefined>(ROUTE_POLICY, [context.getHandler(), context.getClass()]);
    if (policy?.kind !== 'permission') return true;
    const request = context.switchToHttp().getRequest<GatewayRequest & { user?: Actor }>();
    const accountId = request.params.accountId;
    if (request.user && typeof accountId === 'string' && this.gate.isSuspended(request.user, accountId)) throw notFound(request, 'suspended');
    return true;
  }
}

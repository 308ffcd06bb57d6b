import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Actor } from '#libs/contracts/index.js';
import { DomainError, ErrorCode } from '#libs/errors/index.js';
import type { GatewayRequest } from '../http/request-id.middleware.js';
import { notFound } from './access.guard.js';
import { ROUTE_POLICY, type RoutePolicy } from './route-policy.js';
import { SessionGate } from './session-gate.service.js';

/**
 * Runs after the access guard, on the routes of an account, on every replica from the moment
 * identity tells of a change:
 * - a principal suspended in the route's account (an inactive membership, or one just removed)
 *   gets 404 there, as if it had never been a member, whatever its roles say;
 * - an account that requires two-step sign-in answers 403 `SECOND_STEP_REQUIRED` to a session
 *   opened without it (its holder can still turn it on: `/v1/me/mfa` is no account's route).
 * Neither applies to someone who is not in the account: the access guard has answered 404 first.
 */
@Injectable()
export class AccountGateGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly gate: SessionGate,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const policy = this.reflector.getAllAndOverride<RoutePolicy | undefined>(ROUTE_POLICY, [context.getHandler(), context.getClass()]);
    if (policy?.kind !== 'permission') return true;
    const request = context.switchToHttp().getRequest<GatewayRequest & { user?: Actor }>();
    const accountId = request.params.accountId;
    // The access guard runs first and leaves a permission route only with both: deny by default if it did not.
    if (!request.user || typeof accountId !== 'string') throw new DomainError(ErrorCode.Unauthenticated, 'A valid access token is required');
    if (this.gate.isSuspended(request.user, accountId)) throw notFound(request, 'suspended');
    if (this.gate.lacksRequiredSecondStep(request.user, accountId)) {
      request.accessDenied = 'second-step-required';
      throw new DomainError(
        ErrorCode.SecondStepRequired,
        'This account requires two-step sign-in: sign in again with it, or turn it on (POST /v1/me/mfa/totp, then /confirm) and refresh your token',
      );
    }
    return true;
  }
}

import { Injectable, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import { AccessClient } from '#libs/access-client/access-client.js';
import { isOutsider, principalOf, UUID_PATTERN, type Actor, type CheckRequest, type CheckResult } from '#libs/contracts/index.js';
import { DomainError, ErrorCode } from '#libs/errors/index.js';
import type { RpcSender } from '#libs/platform/index.js';
import { refusesUnknownField } from '../http/earlier-release.js';
import { assertReadableBody } from '../http/input-guard.js';
import type { GatewayRequest } from '../http/request-id.middleware.js';
import { DecisionCache, decisionKey } from './decision-cache.js';
import { JwtStrategy } from './jwt.strategy.js';
import { ROUTE_POLICY, type RoutePolicy } from './route-policy.js';
import { SessionGate } from './session-gate.service.js';

/** A request once the actor is known. */
type AuthenticatedRequest = GatewayRequest & { user: Actor };

/** Failures of authentication that say "retry", not "sign in again". */
const TRANSIENT = new Set<string>([ErrorCode.ServiceUnavailable, ErrorCode.UpstreamTimeout]);

/** The 404 of an account the caller may not see, marked as a denial so that it is logged like a 403 (B4). */
export function notFound(request: GatewayRequest, reason: string): DomainError {
  request.accessDenied = reason;
  return new DomainError(ErrorCode.NotFound, 'Account not found');
}

/**
 * The one guard of every route, deny by default: a route without a policy is refused; a
 * permission route asks access for the caller's right in the `:accountId` account, answering
 * 404 when the caller has nothing there (no leak of existence) or is deactivated there, and 403
 * when the right is missing.
 */
@Injectable()
export class AccessGuard extends AuthGuard('jwt') {
  constructor(
    private readonly reflector: Reflector,
    private readonly cache: DecisionCache,
    private readonly jwt: JwtStrategy,
    private readonly gate: SessionGate,
  ) {
    super();
  }

  override async canActivate(context: ExecutionContext): Promise<boolean> {
    const policy = this.reflector.getAllAndOverride<RoutePolicy | undefined>(ROUTE_POLICY, [context.getHandler(), context.getClass()]);
    if (!policy) throw new DomainError(ErrorCode.Forbidden, 'This route declares no access policy');
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    assertReadableBody(request, context.getHandler(), context.getClass().prototype as object);
    if (policy.kind === 'public') return true;
    await this.authenticate(context, request);
    if (policy.kind === 'authenticated') return assertPersonOrSubuser(request);
    await this.authorize(request, policy);
    return true;
  }

  /** A token seen before is taken from memory (see JwtStrategy.rememberedActor); any other goes through passport-jwt. */
  private async authenticate(context: ExecutionContext, request: AuthenticatedRequest): Promise<void> {
    const remembered = this.jwt.rememberedActor(request);
    if (!remembered) {
      await super.canActivate(context);
      return;
    }
    try {
      request.user = await remembered;
    } catch (error) {
      this.handleRequest(error, undefined);
    }
  }

  /**
   * Passport's verdict: a token that cannot be checked right now (the session list or the keys not
   * loaded yet) is a 503 to retry, not a sign-out; any other failure is the same 401.
   */
  override handleRequest<T>(error: unknown, actor: T, info?: unknown): T {
    for (const reason of [error, info]) if (reason instanceof DomainError && TRANSIENT.has(reason.code)) throw reason;
    if (error || !actor) throw new DomainError(ErrorCode.Unauthenticated, 'A valid access token is required');
    return actor;
  }

  private async authorize(request: AuthenticatedRequest, policy: { section: string; action: string }): Promise<void> {
    const { accountId } = request.params;
    if (typeof accountId !== 'string' || !UUID_PATTERN.test(accountId)) throw notFound(request, 'not-an-account-id');
    // Ids are lower-case everywhere: an upper-case one names the same account.
    request.params.accountId = accountId.toLowerCase();
    const decision = await this.decide(request, request.params.accountId, policy);
    // Deactivated there: 404, as the account gate guard answers (access may learn of it before or after this gateway).
    if (isOutsider(decision.reason)) throw notFound(request, decision.reason);
    if (!decision.allowed) {
      // Access has not applied it yet, but this gateway knows: 404 too, not a 403 that tells a suspended principal what it holds there.
      if (this.gate.isSuspended(request.user, request.params.accountId)) throw notFound(request, 'suspended');
      throw new DomainError(ErrorCode.Forbidden, `Missing permission ${policy.section}:${policy.action}`);
    }
  }

  /** Asks access (Portico's own permissions are `portico.<section>`), through the cache that `access.changed` invalidates. */
  private async decide(request: AuthenticatedRequest, accountId: string, policy: { section: string; action: string }): Promise<CheckResult> {
    const actor = request.user;
    const key = decisionKey(actor, policy.section, policy.action);
    const cached = this.cache.get(accountId, key);
    if (cached) return cached;
    const ticket = this.cache.ticket();
    const atLeastVersion = this.cache.versionHeard(accountId);
    const decision = await ask(request.rpc, {
      principal: principalOf(actor),
      accountId,
      section: `portico.${policy.section}`,
      action: policy.action,
      ...(atLeastVersion !== undefined && { atLeastVersion }),
    });
    this.cache.set(accountId, key, decision, ticket);
    return decision;
  }
}

/**
 * A route for anyone signed in (the caller's own profile, password, second step, sessions, accounts)
 * is a person's or a subuser's: a service account, which has none of those, calls only the routes
 * of its account, each under its permission (deny by default).
 */
function assertPersonOrSubuser(request: AuthenticatedRequest): true {
  if (request.user.type !== 'service-account') return true;
  request.accessDenied = 'service-account';
  throw new DomainError(ErrorCode.Forbidden, "A service account calls only its account's routes (/v1/accounts/{accountId}/...)");
}

/**
 * Asks access; when an access of the release before refuses `atLeastVersion` as unknown, asks
 * once more without it, as that release takes it (docs/deploy.md §4).
 */
function ask(rpc: RpcSender, question: CheckRequest): Promise<CheckResult> {
  const client = new AccessClient(rpc);
  if (question.atLeastVersion === undefined) return client.check(question);
  return client.check(question).catch((error: unknown) => {
    if (!refusesUnknownField(error, 'atLeastVersion')) throw error;
    return client.check({ ...question, atLeastVersion: undefined });
  });
}

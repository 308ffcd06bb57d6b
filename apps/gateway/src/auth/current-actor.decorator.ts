import { isIP } from 'node:net';
import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import { MAX_USER_AGENT_LENGTH, type Actor, type ClientContext } from '#libs/contracts/index.js';
import type { RpcSender } from '#libs/platform/index.js';
import type { GatewayRequest } from '../http/request-id.middleware.js';

/** The verified caller of an authenticated route. */
export const CurrentActor = createParamDecorator(
  (_data: unknown, context: ExecutionContext): Actor => context.switchToHttp().getRequest<Request & { user: Actor }>().user,
);

/** The caller's address as the gateway saw it (see TRUST_PROXY); the connection's when a forwarded one is not an IP address. */
export const ClientIp = createParamDecorator((_data: unknown, context: ExecutionContext): string => clientIpOf(context.switchToHttp().getRequest<Request>()));

/** See {@link ClientIp}. */
export function clientIpOf(request: Request): string {
  const forwarded = request.ip;
  if (forwarded && isIP(forwarded)) return forwarded;
  return request.socket.remoteAddress ?? 'unknown';
}

/** The caller's address and its User-Agent, for the routes that open or renew a session (the session shows them to its owner). */
export const SessionClient = createParamDecorator((_data: unknown, context: ExecutionContext): ClientContext =>
  sessionClientOf(context.switchToHttp().getRequest<Request>()),
);

/** See {@link SessionClient}: a User-Agent longer than identity takes is cut, not refused (a sign-in never fails for it). */
export function sessionClientOf(request: Request): ClientContext {
  const ip = clientIpOf(request);
  const userAgent = request.headers['user-agent'];
  return userAgent ? { ip, userAgent: userAgent.slice(0, MAX_USER_AGENT_LENGTH) } : { ip };
}

/** Sends requests to the services on behalf of this HTTP request (its request id travels with each). */
export const Rpc = createParamDecorator((_data: unknown, context: ExecutionContext): RpcSender => context.switchToHttp().getRequest<GatewayRequest>().rpc);

/** This HTTP request's id (see requestIdMiddleware), for log lines about it. */
export const RequestId = createParamDecorator(
  (_data: unknown, context: ExecutionContext): string => context.switchToHttp().getRequest<GatewayRequest>().requestId,
);

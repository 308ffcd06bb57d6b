import { isIP } from 'node:net';
import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import type { Actor } from '#libs/contracts/index.js';
import { cleanUserAgent, type RpcSender } from '#libs/platform/index.js';
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

/**
 * The request's sender to the services (see {@link Rpc}), also passing on the caller's User-Agent,
 * for the routes that open or renew a session (the session shows it to its owner).
 */
export const SessionRpc = createParamDecorator((_data: unknown, context: ExecutionContext): RpcSender =>
  sessionRpcOf(context.switchToHttp().getRequest<GatewayRequest>()),
);

/** See {@link SessionRpc}. */
export function sessionRpcOf(request: GatewayRequest): RpcSender {
  const userAgent = cleanUserAgent(request.headers['user-agent']);
  return userAgent ? request.rpc.withUserAgent(userAgent) : request.rpc;
}

/** Sends requests to the services on behalf of this HTTP request (its request id travels with each). */
export const Rpc = createParamDecorator((_data: unknown, context: ExecutionContext): RpcSender => context.switchToHttp().getRequest<GatewayRequest>().rpc);

/** This HTTP request's id (see requestIdMiddleware), for log lines about it. */
export const RequestId = createParamDecorator(
  (_data: unknown, context: ExecutionContext): string => context.switchToHttp().getRequest<GatewayRequest>().requestId,
);

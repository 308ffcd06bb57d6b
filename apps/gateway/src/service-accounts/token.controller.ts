import { Body, Controller, Headers, HttpCode, Post } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ClientCredentialsBody, ClientCredentialsTokenView, MAX_CLIENT_ID_LENGTH, MAX_CLIENT_SECRET_LENGTH, Subjects } from '#libs/contracts/index.js';
import { DomainError, ErrorCode } from '#libs/errors/index.js';
import type { RelayedJson, RpcSender } from '#libs/platform/index.js';
import { ClientIp, Rpc } from '../auth/current-actor.decorator.js';
import { Public } from '../auth/route-policy.js';

/** The OAuth 2.0 client-credentials grant: a service account's API key for a short-lived access token. */
@ApiTags('auth')
@Controller('v1/auth')
export class TokenController {
  @Post('token')
  @Public()
  @HttpCode(200)
  @ApiOperation({
    summary:
      'A service account exchanges an API key (client id and secret, in the body as JSON or as a form, or with HTTP Basic) for an access token: grant_type client_credentials, no refresh token. 401 INVALID_CREDENTIALS alike for an unknown id, a wrong secret, a revoked or expired key, an inactive or deleted service account; 429 when the address is throttled',
  })
  @ApiOkResponse({ type: ClientCredentialsTokenView })
  token(
    @Rpc() rpc: RpcSender,
    @Body() body: ClientCredentialsBody,
    @Headers('authorization') authorization: string | undefined,
    @ClientIp() ip: string,
  ): Promise<RelayedJson<ClientCredentialsTokenView>> {
    const { clientId, clientSecret } = credentialsOf(body, authorization);
    return rpc.relay(Subjects.AuthToken, { clientId, clientSecret, client: { ip } });
  }
}

/**
 * The client's id and secret: from the body, or from an `Authorization: Basic` header (RFC 6749
 * §2.3.1: each form-encoded, then joined by a colon and base64-encoded), never both.
 */
export function credentialsOf(body: ClientCredentialsBody, authorization: string | undefined): { clientId: string; clientSecret: string } {
  const basic = basicCredentials(authorization);
  const inBody = body.client_id !== undefined || body.client_secret !== undefined;
  if (basic && inBody) throw refused('Send the client id and secret either with HTTP Basic or in the body, not both', 'client_id');
  if (basic) return basic;
  if (body.client_id === undefined) throw refused('client_id is required (or HTTP Basic)', 'client_id');
  if (body.client_secret === undefined) throw refused('client_secret is required (or HTTP Basic)', 'client_secret');
  return { clientId: body.client_id, clientSecret: body.client_secret };
}

function basicCredentials(authorization: string | undefined): { clientId: string; clientSecret: string } | undefined {
  if (!/^basic(\s|$)/i.test(authorization ?? '')) return undefined;
  // A Basic header that is not base64 is refused as such, never taken for no header (and the body then asked for).
  const match = /^basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(authorization!);
  if (!match) throw refused('HTTP Basic must carry base64 of client_id:client_secret', 'authorization');
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 1 || colon === decoded.length - 1) throw refused('HTTP Basic must carry client_id:client_secret', 'client_id');
  const credentials = { clientId: formDecoded(decoded.slice(0, colon)), clientSecret: formDecoded(decoded.slice(colon + 1)) };
  if (credentials.clientId.length > MAX_CLIENT_ID_LENGTH) throw refused(`client_id must be at most ${MAX_CLIENT_ID_LENGTH} characters`, 'client_id');
  if (credentials.clientSecret.length > MAX_CLIENT_SECRET_LENGTH) {
    throw refused(`client_secret must be at most ${MAX_CLIENT_SECRET_LENGTH} characters`, 'client_secret');
  }
  return credentials;
}

function formDecoded(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    throw refused('HTTP Basic must carry client_id:client_secret, each form-encoded', 'client_id');
  }
}

function refused(message: string, field: string): DomainError {
  return new DomainError(ErrorCode.ValidationFailed, message, { field });
}

import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ActivateBody, LoginBody, Subjects, TokenPairView } from '#libs/contracts/index.js';
import { RpcClient } from '#libs/platform/index.js';
import { ClientIp } from '../auth/current-actor.decorator.js';
import { Public } from '../auth/route-policy.js';

/** Activation and sign-in. */
@ApiTags('auth')
@Controller('v1/auth')
export class AuthController {
  constructor(private readonly rpc: RpcClient) {}

  @Post('activate')
  @Public()
  @HttpCode(204)
  @ApiOperation({ summary: 'Set the first password with the token from the activation mail' })
  @ApiNoContentResponse()
  async activate(@Body() body: ActivateBody, @ClientIp() ip: string): Promise<void> {
    await this.rpc.send(Subjects.AuthActivate, { body, client: { ip } });
  }

  @Post('login')
  @Public()
  @HttpCode(200)
  @ApiOperation({ summary: 'Sign in with e-mail and password' })
  @ApiOkResponse({ type: TokenPairView })
  login(@Body() body: LoginBody, @ClientIp() ip: string): Promise<TokenPairView> {
    return this.rpc.send(Subjects.AuthLogin, { body, client: { ip } });
  }
}

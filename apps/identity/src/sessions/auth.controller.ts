import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { ActivateRequest, LoginRequest, Subjects, type JwksView, type TokenPairView } from '#libs/contracts/index.js';
import { AuthService } from './auth.service.js';
import { SigningKeysService } from './signing-keys.service.js';

/** NATS handlers for sign-in and the key set. */
@Controller()
export class AuthController {
  constructor(
    private readonly auth: AuthService,
    private readonly keys: SigningKeysService,
  ) {}

  @MessagePattern(Subjects.AuthActivate)
  activate(@Payload() request: ActivateRequest): Promise<{ activated: true }> {
    return this.auth.activate(request);
  }

  @MessagePattern(Subjects.AuthLogin)
  login(@Payload() request: LoginRequest): Promise<TokenPairView> {
    return this.auth.login(request);
  }

  @MessagePattern(Subjects.KeysList)
  keySet(): JwksView {
    return this.keys.jwks();
  }
}

import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { ActivateRequest, LoginRequest, TokenPairView } from '#libs/contracts/index.js';
import { DomainError, ErrorCode } from '#libs/errors/index.js';
import { Clock, CONFIG } from '#libs/platform/index.js';
import type { IdentityConfig } from '../identity.config.js';
import { AccountEntity } from '../accounts/account.entity.js';
import { ActionTokensService } from '../credentials/action-tokens.service.js';
import { PasswordHasher } from '../credentials/password-hasher.js';
import { assertPasswordAcceptable } from '../credentials/password-policy.js';
import { UserEntity } from '../users/user.entity.js';
import { SessionsService } from './sessions.service.js';

/** Activation and sign-in of users. */
@Injectable()
export class AuthService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly tokens: ActionTokensService,
    private readonly hasher: PasswordHasher,
    private readonly sessions: SessionsService,
    private readonly clock: Clock,
    @Inject(CONFIG) private readonly config: IdentityConfig,
  ) {}

  /** Sets the first password from an activation token and activates the user. No automatic login. */
  async activate({ body }: ActivateRequest): Promise<{ activated: true }> {
    await this.dataSource.transaction(async (manager) => {
      const token = await this.tokens.consume(manager, body.token, 'activation');
      const user = await manager.findOneByOrFail(UserEntity, { id: token.userId });
      const account = token.accountId ? await manager.findOneBy(AccountEntity, { id: token.accountId }) : null;
      assertPasswordAcceptable(body.password, this.config.PASSWORD_MIN_LENGTH, { email: user.email, accountName: account?.name });
      const passwordHash = await this.hasher.hash(body.password);
      await manager.update(UserEntity, { id: user.id }, { passwordHash, status: 'active' });
    });
    return { activated: true };
  }

  /** E-mail + password -> a new session. Unknown e-mail and wrong password answer alike. */
  async login({ body, client }: LoginRequest): Promise<TokenPairView> {
    const user = await this.dataSource.getRepository(UserEntity).findOneBy({ emailLower: body.email.toLowerCase() });
    const matches = await this.hasher.verify(user?.status === 'active' ? user.passwordHash : null, body.password);
    if (!user || !matches) throw new DomainError(ErrorCode.InvalidCredentials, 'E-mail or password is incorrect');
    return this.dataSource.transaction(async (manager) => {
      await manager.update(UserEntity, { id: user.id }, { lastLoginAt: this.clock.now() });
      return this.sessions.open(manager, { type: 'user', id: user.id }, null, client.ip);
    });
  }
}

import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import type { EntityManager } from 'typeorm';
import type { AccessTokenClaims, Principal, TokenPairView } from '#libs/contracts/index.js';
import { Clock, CONFIG } from '#libs/platform/index.js';
import type { IdentityConfig } from '../identity.config.js';
import { hashSecretToken, newSecretToken } from '../credentials/secret-token.js';
import { SessionEntity } from './session.entity.js';
import { ACCESS_TOKEN_ALGORITHM, SigningKeysService } from './signing-keys.service.js';

/** Opens sessions and issues their tokens. */
@Injectable()
export class SessionsService {
  constructor(
    private readonly keys: SigningKeysService,
    private readonly clock: Clock,
    @Inject(CONFIG) private readonly config: IdentityConfig,
  ) {}

  /** Starts a session for `principal` and returns its first token pair. */
  async open(manager: EntityManager, principal: Principal, accountId: string | null, ip: string): Promise<TokenPairView> {
    const refreshToken = newSecretToken();
    const now = this.clock.now();
    const session = await manager.save(SessionEntity, {
      id: randomUUID(),
      principalType: principal.type,
      principalId: principal.id,
      accountId,
      refreshHash: hashSecretToken(refreshToken),
      ip,
      lastUsedAt: now,
      expiresAt: new Date(now.getTime() + this.lifetimeMs(principal)),
      revokedAt: null,
    });
    return { accessToken: await this.accessToken(session), refreshToken, expiresIn: this.config.ACCESS_TOKEN_TTL_SECONDS, tokenType: 'Bearer' };
  }

  private lifetimeMs(principal: Principal): number {
    return principal.type === 'subuser' ? this.config.SUBUSER_SESSION_TTL_HOURS * 3600_000 : this.config.REFRESH_TOKEN_TTL_DAYS * 86_400_000;
  }

  private async accessToken(session: SessionEntity): Promise<string> {
    const { kid, privateKey } = this.keys.signingKey();
    const claims: Omit<AccessTokenClaims, 'sub'> = { pty: session.principalType, sid: session.id, typ: 'access' };
    const nowSeconds = Math.floor(this.clock.now().getTime() / 1000);
    const expires = Math.min(nowSeconds + this.config.ACCESS_TOKEN_TTL_SECONDS, Math.floor(session.expiresAt.getTime() / 1000));
    return new SignJWT({ ...claims })
      .setProtectedHeader({ alg: ACCESS_TOKEN_ALGORITHM, kid, typ: 'at+jwt' })
      .setSubject(session.principalId)
      .setIssuer(this.config.JWT_ISSUER)
      .setAudience(this.config.JWT_AUDIENCE)
      .setIssuedAt(nowSeconds)
      .setExpirationTime(expires)
      .setJti(randomUUID())
      .sign(privateKey);
  }
}

import { Inject, Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import type { Request } from 'express';
import type { KeyObject } from 'node:crypto';
import { decodeProtectedHeader } from 'jose';
import { ExtractJwt, Strategy } from 'passport-jwt';
import { passedSecondStepIn, PRINCIPAL_TYPES, type AccessTokenClaims, type Actor } from '#libs/contracts/index.js';
import { DomainError, ErrorCode } from '#libs/errors/index.js';
import { CONFIG } from '#libs/platform/index.js';
import type { GatewayConfig } from '../gateway.config.js';
import { KeyRing } from './key-ring.service.js';
import { withSecondStep } from './second-step.js';
import { SessionGate } from './session-gate.service.js';
import { VerifiedTokens } from './verified-tokens.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const bearerToken = ExtractJwt.fromAuthHeaderAsBearerToken();

/** The claims of a verified access token as they reach `validate`. */
type VerifiedClaims = Partial<AccessTokenClaims> & { exp?: number; nbf?: number };

/** What is remembered of a verified token: its time claims and session, and the actor its claims name (checked once). */
type RememberedToken = Pick<VerifiedClaims, 'exp' | 'nbf' | 'sid'> & { actor: Actor };

/** The key (and its id) passport-jwt verified this request's token with, kept on the request until `validate`. */
const VERIFYING_KEY = Symbol('verifyingKey');
type KeyedRequest = Request & { [VERIFYING_KEY]?: { kid: string; key: KeyObject } };

/**
 * Verifies access tokens: ES256 only (pinned), key by `kid` from identity's key set only
 * (`jku`, `x5u` and `jwk` headers are never followed), `iss` and `aud` checked, expiry enforced,
 * and the session still open (an ended session's tokens are refused at once). A token verified
 * once is remembered ({@link VerifiedTokens}); its time claims, key and session are checked on every request.
 */
@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy, 'jwt') {
  private readonly verified = new VerifiedTokens<RememberedToken>();

  constructor(
    private readonly keyRing: KeyRing,
    private readonly gate: SessionGate,
    @Inject(CONFIG) config: GatewayConfig,
  ) {
    super({
      jwtFromRequest: bearerToken,
      passReqToCallback: true,
      algorithms: ['ES256'],
      issuer: config.JWT_ISSUER,
      audience: config.JWT_AUDIENCE,
      ignoreExpiration: false,
      secretOrKeyProvider: (request: KeyedRequest, rawToken: string, done: (error: unknown, key?: string) => void) => {
        findKey(keyRing, rawToken).then(
          (found) => {
            if (found.missing === 'unsure') return done(new DomainError(ErrorCode.ServiceUnavailable, 'Tokens cannot be checked yet, retry shortly'));
            if (found.missing) return done(new DomainError(ErrorCode.Unauthenticated, 'Unknown signing key'));
            request[VERIFYING_KEY] = found;
            // jsonwebtoken takes a KeyObject (its typings say string): no PEM parsing per request.
            done(null, found.key as unknown as string);
          },
          () => done(new DomainError(ErrorCode.Unauthenticated, 'Unreadable token')),
        );
      },
    });
  }

  /**
   * The actor of a request whose bearer token this gateway has verified before (time claims, key
   * and session checked again), or undefined when the token must go through passport-jwt.
   */
  rememberedActor(request: Request): Promise<Actor> | undefined {
    const token = bearerTokenOf(request);
    const remembered = token ? this.verified.get(token, Math.floor(Date.now() / 1000), (kid) => this.keyRing.peek(kid)) : undefined;
    return remembered ? this.liveActor(remembered.actor) : undefined;
  }

  /** Called by passport-jwt once the signature and registered claims are verified. */
  async validate(request: KeyedRequest, claims: VerifiedClaims): Promise<Actor> {
    const checked = Object.freeze(actorOf(claims));
    const actor = await this.liveActor(checked);
    const token = bearerToken(request);
    const verifiedWith = request[VERIFYING_KEY];
    // Remembered with the key that verified it (not whatever the ring holds under that id by now).
    if (token && verifiedWith)
      this.verified.remember(token, { exp: claims.exp, nbf: claims.nbf, sid: claims.sid, actor: checked }, verifiedWith.kid, verifiedWith.key);
    return actor;
  }

  /** A copy of `actor` (each request its own) once its session is known to be open. */
  private async liveActor(actor: Actor): Promise<Actor> {
    await this.gate.assertSessionLive(actor);
    return { ...actor };
  }
}

/** Turns verified claims into the actor; anything but a well-formed access token is refused. */
function actorOf(claims: Partial<AccessTokenClaims>): Actor {
  const { sub, pty, sid, typ, amr } = claims;
  if (typ !== 'access' || !PRINCIPAL_TYPES.includes(pty as never) || !UUID.test(sub ?? '') || !UUID.test(sid ?? '')) {
    throw new DomainError(ErrorCode.Unauthenticated, 'Not an access token');
  }
  // A token without `amr` (made before it existed) counts as a password-only sign-in.
  return withSecondStep({ type: pty!, id: sub!, sessionId: sid! }, passedSecondStepIn(amr));
}

/**
 * The bearer token of a request, read without passport-jwt's regular expression in the usual
 * spelling (`Bearer <token>`); any other is left to passport-jwt's own reading. A token read
 * differently from passport-jwt can only miss the remembered tokens, which passport-jwt filled.
 */
function bearerTokenOf(request: Request): string | null {
  const header = request.headers.authorization;
  if (typeof header === 'string' && header.length > 7 && header.charCodeAt(6) === 0x20 && header.slice(0, 6).toLowerCase() === 'bearer') {
    return header.slice(7);
  }
  return bearerToken(request);
}

/** The key that verifies the token, by its `kid`; a token naming none is refused as a key the ring lacks. */
async function findKey(keyRing: KeyRing, rawToken: string): Promise<{ kid: string; key: KeyObject; missing?: never } | { missing: 'absent' | 'unsure' }> {
  const { kid } = decodeProtectedHeader(rawToken);
  if (typeof kid !== 'string') return { missing: 'absent' };
  const found = await keyRing.find(kid);
  return found.key ? { kid, key: found.key } : { missing: found.missing };
}

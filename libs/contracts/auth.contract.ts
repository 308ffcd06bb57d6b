import { ApiProperty } from './api-docs.js';
import { IsDefined, IsString, Length, MaxLength } from 'class-validator';
import { Nested } from './nested.js';
import { CodePointLength } from './text-length.js';
import { LowerCasesAlike } from './accounts.contract.js';
import { ClientContext } from './shared.dto.js';
import type { PrincipalType } from './actor.js';

/** Longest password accepted on the wire (the policy may say less; hashing cost stays bounded). */
export const PASSWORD_MAX_LENGTH = 1024;

/** `POST /v1/auth/activate`: the token from the activation mail and the new password. */
export class ActivateBody {
  @ApiProperty({ description: 'The token from the activation link', minLength: 10, maxLength: 200 })
  @IsString()
  @Length(10, 200)
  token: string;

  @ApiProperty({
    maxLength: PASSWORD_MAX_LENGTH,
    description: 'At least PASSWORD_MIN_LENGTH characters (a setting, 8 to 128; 12 by default), checked by identity with the rest of the password policy',
  })
  @IsString()
  @MaxLength(PASSWORD_MAX_LENGTH)
  password: string;
}

/** `POST /v1/auth/login`. */
export class LoginBody {
  @ApiProperty({ example: 'ada@example.com' })
  @IsString()
  @CodePointLength(1, 254)
  @LowerCasesAlike()
  email: string;

  @ApiProperty()
  @IsString()
  @MaxLength(PASSWORD_MAX_LENGTH)
  password: string;
}

/** A body sent on to a service together with where the request came from. */
class WithClient {
  @IsDefined()
  @Nested(() => ClientContext)
  client: ClientContext;
}

/** `identity.auth.activate`. */
export class ActivateRequest extends WithClient {
  @IsDefined()
  @Nested(() => ActivateBody)
  body: ActivateBody;
}

/** `identity.auth.login`. */
export class LoginRequest extends WithClient {
  @IsDefined()
  @Nested(() => LoginBody)
  body: LoginBody;
}

/** What a successful login answers. */
export class TokenPairView {
  @ApiProperty({ description: 'Short-lived JWT (ES256) for the Authorization header' }) accessToken: string;
  @ApiProperty({ description: 'Opaque, single-use; exchange it at /v1/auth/refresh' }) refreshToken: string;
  @ApiProperty({ description: 'Seconds until the access token expires' }) expiresIn: number;
  @ApiProperty({ enum: ['Bearer'] }) tokenType: 'Bearer';
}

/** A public key of the access-token signing key set (RFC 7517). */
export interface PublicJwk {
  kid: string;
  kty: string;
  crv?: string;
  x?: string;
  y?: string;
  alg: string;
  use: 'sig';
}

/** `identity.keys.list`: the verification keys; the first is the one signing now. */
export interface JwksView {
  keys: PublicJwk[];
}

/** The claims Portico puts in an access token, beside iss/aud/exp/iat. */
export interface AccessTokenClaims {
  /** The principal's id. */
  sub: string;
  /** `user`, `subuser` or `service-account`. */
  pty: PrincipalType;
  /** The session id. */
  sid: string;
  /** Marks the token as an access token (refresh tokens are opaque, this guards against confusion). */
  typ: 'access';
  /**
   * How the session's sign-in was authenticated (RFC 8176): `["pwd"]`, or `["pwd", "otp", "mfa"]`
   * once a second step was passed (at sign-in, or by turning two-step sign-in on in the session).
   */
  amr: AuthenticationMethod[];
}

/** Authentication methods an access token's `amr` names (RFC 8176). */
export type AuthenticationMethod = 'pwd' | 'otp' | 'mfa';

/** The `amr` of a session that passed a second step, or of one that did not. */
export function authenticationMethods(secondStepPassed: boolean): AuthenticationMethod[] {
  return secondStepPassed ? ['pwd', 'otp', 'mfa'] : ['pwd'];
}

/** Whether an `amr` claim as a token carries it (anything: a token may have none) says a second step was passed. */
export function passedSecondStepIn(amr: unknown): boolean {
  return Array.isArray(amr) && amr.includes('mfa');
}

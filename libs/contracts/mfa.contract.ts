import { ApiProperty } from './api-docs.js';
import { IsDefined, IsString, Length, MaxLength } from 'class-validator';
import { Nested } from './nested.js';
import { ActorClientRequest, ClientRequest } from './account-request.js';
import { PASSWORD_MAX_LENGTH } from './auth.contract.js';

/** Longest code accepted on the wire: a 6-digit TOTP code, or a recovery code typed with spaces and dashes. */
export const SECOND_FACTOR_CODE_MAX_LENGTH = 32;

/** `GET /v1/me/mfa`: whether the caller's sign-in takes a second step, and whether too many wrong codes block it. */
export class MfaStatusView {
  @ApiProperty({ description: 'Whether signing in asks for a code from an authenticator app after the password' }) enabled: boolean;
  @ApiProperty({ nullable: true, type: String, format: 'date-time' }) enabledAt: string | null;
  @ApiProperty({ description: 'Recovery codes not used yet (0 when two-step sign-in is off)' }) recoveryCodesLeft: number;
  @ApiProperty({
    description:
      'Whether the second step is blocked after too many wrong codes within 30 days: every sign-in is refused (423 SECOND_STEP_BLOCKED) until the password is reset or changed, or the second step is reset. false when two-step sign-in is off',
  })
  blocked: boolean;
  @ApiProperty({ nullable: true, type: String, format: 'date-time', description: 'When the second step was blocked; null when it is not' })
  blockedAt: string | null;
}

/** `POST /v1/me/mfa/totp`: start setting up an authenticator app (the current password is required). */
export class StartTotpBody {
  @ApiProperty({ description: 'The current password: a session alone cannot set up a second factor' })
  @IsString()
  @MaxLength(PASSWORD_MAX_LENGTH)
  currentPassword: string;
}

/** What starting the set-up answers: the secret to put in the authenticator app, once. */
export class TotpEnrolmentView {
  @ApiProperty({ example: 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP', description: 'The secret in base32, for typing into the app by hand' }) secret: string;
  @ApiProperty({ example: 'otpauth://totp/Portico:ada%40example.com?secret=...', description: 'The same as a URI, for a QR code' })
  otpauthUri: string;
}

/** `POST /v1/me/mfa/totp/confirm`: the first code the app shows; two-step sign-in is on from then. */
export class ConfirmTotpBody {
  @ApiProperty({ example: '123456', description: 'The 6-digit code the authenticator app shows now' })
  @IsString()
  @Length(1, SECOND_FACTOR_CODE_MAX_LENGTH)
  code: string;
}

/** Recovery codes, shown this once: each signs in once instead of a code from the app. */
export class RecoveryCodesView {
  @ApiProperty({ type: [String], example: ['k7mqx-2hdpa'] }) recoveryCodes: string[];
}

/**
 * `POST /v1/me/mfa/disable` and `POST /v1/me/mfa/recovery-codes`: changing the second factor needs
 * both factors: the current password and a code (from the app, or a recovery code).
 */
export class SecondFactorChangeBody {
  @ApiProperty({ description: 'The current password' })
  @IsString()
  @MaxLength(PASSWORD_MAX_LENGTH)
  currentPassword: string;

  @ApiProperty({ example: '123456', description: 'A code from the authenticator app, or an unused recovery code' })
  @IsString()
  @Length(1, SECOND_FACTOR_CODE_MAX_LENGTH)
  code: string;
}

/** What a sign-in answers, instead of tokens, when the login has two-step sign-in on: 200, and the second step to take. */
export class SecondStepView {
  @ApiProperty({ enum: [true], description: 'Tells this answer from a token pair' }) mfaRequired: true;
  @ApiProperty({ description: 'Opaque, single-use: send it with the code to /v1/auth/mfa' }) challenge: string;
  @ApiProperty({ description: 'Seconds left to send the code' }) expiresIn: number;
  @ApiProperty({ enum: ['totp', 'recovery-code'], isArray: true }) methods: Array<'totp' | 'recovery-code'>;
}

/** `POST /v1/auth/mfa`: the second step of a sign-in. */
export class SecondStepBody {
  @ApiProperty({ description: 'The challenge the password step answered', minLength: 10, maxLength: 200 })
  @IsString()
  @Length(10, 200)
  challenge: string;

  @ApiProperty({ example: '123456', description: 'The code the authenticator app shows now, or an unused recovery code' })
  @IsString()
  @Length(1, SECOND_FACTOR_CODE_MAX_LENGTH)
  code: string;
}

/** `identity.me.mfa.totp.start`. */
export class StartTotpRequest extends ActorClientRequest {
  @IsDefined()
  @Nested(() => StartTotpBody)
  body: StartTotpBody;
}

/** `identity.me.mfa.totp.confirm`. */
export class ConfirmTotpRequest extends ActorClientRequest {
  @IsDefined()
  @Nested(() => ConfirmTotpBody)
  body: ConfirmTotpBody;
}

/** `identity.me.mfa.disable` and `identity.me.mfa.recovery-codes.renew`. */
export class SecondFactorChangeRequest extends ActorClientRequest {
  @IsDefined()
  @Nested(() => SecondFactorChangeBody)
  body: SecondFactorChangeBody;
}

/** `identity.auth.mfa`. */
export class SecondStepRequest extends ClientRequest {
  @IsDefined()
  @Nested(() => SecondStepBody)
  body: SecondStepBody;
}

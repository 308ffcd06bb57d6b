import { ApiProperty, ApiPropertyOptional } from './api-docs.js';
import { IsDefined, IsString, Length, Matches, MaxLength } from 'class-validator';
import { Nested } from './nested.js';
import { CodePointLength } from './text-length.js';
import { IsMailableEmail } from './email-address.js';
import { Omittable } from './omittable.js';
import { ActorClientRequest, ClientRequest } from './account-request.js';
import { LowerCasesAlike, SLUG_PATTERN } from './accounts.contract.js';
import { PASSWORD_MAX_LENGTH } from './auth.contract.js';
import { SECOND_FACTOR_CODE_MAX_LENGTH } from './mfa.contract.js';
import { SUBUSER_LOGIN_PATTERN } from './subusers.contract.js';

/** `POST /v1/auth/subuser-login`: sign in on an account's own login page. */
export class SubuserLoginBody {
  @ApiProperty({ example: 'acme-voice', description: "The account's slug (from its login page link)" })
  @IsString()
  @CodePointLength(1, 63)
  account: string;

  @ApiProperty({ example: 'support-1' })
  @IsString()
  @CodePointLength(1, 64)
  login: string;

  @ApiProperty()
  @IsString()
  @MaxLength(PASSWORD_MAX_LENGTH)
  password: string;
}

/** `POST /v1/auth/password-reset`: always 202, whether or not the e-mail is known. */
export class PasswordResetBody {
  @ApiProperty({ example: 'ada@example.com' })
  @IsMailableEmail()
  @CodePointLength(0, 254)
  @LowerCasesAlike()
  email: string;
}

/** `POST /v1/auth/subuser-password-reset`: always 202; the mail goes to the subuser's e-mail, if it has one. */
export class SubuserPasswordResetBody {
  @ApiProperty({ example: 'acme-voice' })
  @IsString()
  @Matches(SLUG_PATTERN, { message: 'account must be an account slug' })
  @CodePointLength(1, 63)
  account: string;

  @ApiProperty({ example: 'support-1' })
  @IsString()
  @Matches(SUBUSER_LOGIN_PATTERN, { message: 'login is not a subuser login' })
  login: string;
}

/** `POST /v1/auth/password-reset/confirm`: the token from the reset mail and the new password. */
export class PasswordResetConfirmBody {
  @ApiProperty({ description: 'The token from the reset link', minLength: 10, maxLength: 200 })
  @IsString()
  @Length(10, 200)
  token: string;

  @ApiProperty({ maxLength: PASSWORD_MAX_LENGTH })
  @IsString()
  @MaxLength(PASSWORD_MAX_LENGTH)
  password: string;
}

/** `POST /v1/me/password`. */
export class ChangePasswordBody {
  @ApiProperty()
  @IsString()
  @MaxLength(PASSWORD_MAX_LENGTH)
  currentPassword: string;

  @ApiProperty({ maxLength: PASSWORD_MAX_LENGTH })
  @IsString()
  @MaxLength(PASSWORD_MAX_LENGTH)
  newPassword: string;
}

/** `POST /v1/me/email`: move the caller's login to another e-mail address, once that address confirms. */
export class ChangeEmailBody {
  @ApiProperty({ example: 'ada.lovelace@example.com', description: 'The new login e-mail; a link to confirm it is mailed there' })
  @IsMailableEmail()
  @CodePointLength(0, 254)
  @LowerCasesAlike()
  newEmail: string;

  @ApiProperty({ description: 'The current password: a session alone cannot move the login' })
  @IsString()
  @MaxLength(PASSWORD_MAX_LENGTH)
  currentPassword: string;

  @ApiPropertyOptional({ example: '123456', description: 'Required while two-step sign-in is on: a code of the authenticator app, or an unused recovery code' })
  @Omittable()
  @IsString()
  @Length(1, SECOND_FACTOR_CODE_MAX_LENGTH)
  code?: string;
}

/**
 * A mailed link's token alone: `POST /v1/auth/email-change/confirm` (the token from the mail sent
 * to the new address), `POST /v1/auth/email-change/undo` (the token from the notice sent to the
 * address the login left) and `POST /v1/auth/invitation/accept` and `.../decline` (the token from
 * an account's invitation to someone who has a login).
 */
export class LinkTokenBody {
  @ApiProperty({ description: 'The token from the link', minLength: 10, maxLength: 200 })
  @IsString()
  @Length(10, 200)
  token: string;
}

/** What confirming or undoing an e-mail change answers: the login e-mail now. */
export class EmailChangedView {
  @ApiProperty({ example: 'ada.lovelace@example.com' }) email: string;
}

/** What the reset request answers, always. */
export class AcceptedView {
  @ApiProperty({ example: true }) accepted: true;
}

/** `identity.auth.subuser-login`. */
export class SubuserLoginRequest extends ClientRequest {
  @IsDefined()
  @Nested(() => SubuserLoginBody)
  body: SubuserLoginBody;
}

/** `identity.auth.password-reset.request`. */
export class PasswordResetRequest extends ClientRequest {
  @IsDefined()
  @Nested(() => PasswordResetBody)
  body: PasswordResetBody;
}

/** `identity.auth.subuser-password-reset.request`. */
export class SubuserPasswordResetRequest extends ClientRequest {
  @IsDefined()
  @Nested(() => SubuserPasswordResetBody)
  body: SubuserPasswordResetBody;
}

/** `identity.auth.password-reset.confirm`. */
export class PasswordResetConfirmRequest extends ClientRequest {
  @IsDefined()
  @Nested(() => PasswordResetConfirmBody)
  body: PasswordResetConfirmBody;
}

/** `identity.me.password.change`. */
export class ChangePasswordRequest extends ActorClientRequest {
  @IsDefined()
  @Nested(() => ChangePasswordBody)
  body: ChangePasswordBody;
}

/** `identity.me.email.change`. */
export class ChangeEmailRequest extends ActorClientRequest {
  @IsDefined()
  @Nested(() => ChangeEmailBody)
  body: ChangeEmailBody;
}

/** `identity.auth.email-change.confirm` and `.undo`, `identity.auth.invitation.accept` and `.decline`. */
export class LinkTokenRequest extends ClientRequest {
  @IsDefined()
  @Nested(() => LinkTokenBody)
  body: LinkTokenBody;
}

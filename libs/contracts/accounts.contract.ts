import { applyDecorators } from '@nestjs/common';
import { IsPersonName } from './person-name.js';
import { CodePointLength, IsName, MAX_NAME_LENGTH, MAX_STORED_NAME_LENGTH } from './text-length.js';
import { IsMailableEmail } from './email-address.js';
import { ApiProperty, ApiPropertyOptional } from './api-docs.js';
import { IsBoolean, IsDefined, IsOptional, IsString, Matches, ValidateBy, type ValidationOptions } from 'class-validator';
import { Nested } from './nested.js';
import { Omittable } from './omittable.js';
import { Actor } from './actor.js';
import { AccountRequest, ClientRequest } from './account-request.js';
import { IsUuid } from './uuid.js';

/** E.164: a plus sign, a country code and up to 15 digits in all. */
export const E164_PATTERN = /^\+[1-9]\d{6,14}$/;
/** Account slugs: lower-case letters, digits and single dashes, not at the ends. */
export const SLUG_PATTERN = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

/** A language tag for mails (BCP 47 in short: `en`, `fr`, `fr-CA`, `pt-BR`). */
export const LOCALE_PATTERN = /^[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})*$/;

/** A language tag of at most 35 characters (see {@link LOCALE_PATTERN}). */
export function IsLocale(): PropertyDecorator {
  return applyDecorators(IsString(), CodePointLength(0, 35), Matches(LOCALE_PATTERN, { message: 'locale must be a language tag such as en, fr or fr-CA' }));
}

/**
 * Whether JavaScript lower-cases `text` as PostgreSQL's lower() does: each character on its own,
 * into one character. Two cases differ: a capital whose lower case is two characters (İ, U+0130:
 * JavaScript "i̇", PostgreSQL "i") and a capital sigma ending a word (JavaScript the final "ς",
 * PostgreSQL "σ"). E-mail addresses are compared lower-cased on both sides (throttling keys,
 * lookups, the unique column), so an address where they differ would be two addresses to one side
 * and one to the other.
 */
export function lowerCasesAlike(text: string): boolean {
  let oneByOne = '';
  for (const character of text) {
    const lower = character.toLowerCase();
    if ([...lower].length !== 1) return false;
    oneByOne += lower;
  }
  return text.toLowerCase() === oneByOne;
}

/** Refuses, naming the field, a string that {@link lowerCasesAlike} refuses: every e-mail field carries it. */
export function LowerCasesAlike(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'lowerCasesAlike',
      validator: {
        validate: (value: unknown) => typeof value !== 'string' || lowerCasesAlike(value),
        defaultMessage: (args) => `${args?.property ?? 'email'} holds a capital whose lower case is ambiguous (İ, or Σ ending a word): write it in lower case`,
      },
    },
    options,
  );
}

/** A person's details, as given when they are created. */
export class PersonBody {
  @ApiProperty({ example: 'Ada', maxLength: MAX_NAME_LENGTH })
  @IsPersonName()
  firstName: string;

  @ApiProperty({ example: 'Lovelace', maxLength: MAX_NAME_LENGTH })
  @IsPersonName()
  lastName: string;

  @ApiProperty({ example: 'ada@example.com', maxLength: 254 })
  @IsMailableEmail()
  @CodePointLength(0, 254)
  @LowerCasesAlike()
  email: string;

  @ApiProperty({ example: '+447700900123', description: 'E.164, with the international prefix' })
  @IsString()
  @Matches(E164_PATTERN, { message: 'phone must be in international format, e.g. +447700900123' })
  phone: string;
}

/** `POST /v1/accounts`: an account and its owner. */
export class CreateAccountBody {
  @ApiProperty({ example: 'Acme Voice', maxLength: MAX_NAME_LENGTH })
  @IsName(MAX_NAME_LENGTH)
  name: string;

  @ApiProperty({ example: 'acme-voice', pattern: SLUG_PATTERN.source, minLength: 2, maxLength: 63 })
  @IsString()
  @CodePointLength(2, 63)
  @Matches(SLUG_PATTERN, { message: 'slug may hold only lower-case letters, digits and dashes' })
  slug: string;

  @ApiProperty({ type: () => PersonBody })
  @IsDefined()
  @Nested(() => PersonBody)
  owner: PersonBody;

  @ApiPropertyOptional({
    example: 'fr',
    maxLength: 35,
    description:
      "Language of the account's mails (default en): the owner's, if new to Portico, and every member's and subuser's added later. Built-in texts: en, fr; others fall back to English unless MAIL_TEMPLATES_DIR has them.",
  })
  @Omittable()
  @IsLocale()
  locale?: string;
}

/** `identity.accounts.sign-up`: a sign-up, with where it came from (sign-ups are throttled per client address). */
export class CreateAccountRequest extends ClientRequest {
  @IsDefined()
  @Nested(() => CreateAccountBody)
  body: CreateAccountBody;
}

/** An account as the API shows it. */
export class AccountView {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() name: string;
  @ApiProperty() slug: string;
  @ApiProperty({ format: 'uuid' }) ownerId: string;
  @ApiProperty({ example: 'en', description: "Language of the account's mails to people added from now on" }) locale: string;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({ description: 'Everyone who works in the account (owner, members, subusers) must sign in with two steps' })
  requireSecondStep: boolean;
  @ApiPropertyOptional({ description: 'The subuser login page, once the account has subusers' })
  subuserLoginUrl?: string;
}

/** `identity.accounts.get`: one account, seen by an actor allowed to read it. */
export class GetAccountRequest {
  @IsDefined()
  @Nested(() => Actor)
  actor: Actor;

  @IsUuid()
  accountId: string;
}

/**
 * `PATCH /v1/accounts/{id}`: the account's name, mail language and sign-in policy, each optional.
 * The slug stays: it is in the subuser login page's address and in every subuser's sign-in.
 */
export class UpdateAccountBody {
  @ApiPropertyOptional({ example: 'Acme Voice EMEA', maxLength: MAX_NAME_LENGTH })
  @Omittable()
  @IsName(MAX_NAME_LENGTH)
  name?: string;

  @ApiPropertyOptional({ example: 'fr', maxLength: 35, description: 'Language of the mails to people added from now on (those already in keep theirs)' })
  @Omittable()
  @IsLocale()
  locale?: string;

  @ApiPropertyOptional({
    description:
      'true: everyone who works in the account must have signed in with two steps; sessions opened with a password alone are refused in it (403 SECOND_STEP_REQUIRED) until their holder turns two-step sign-in on. Turning it on needs a session that passed a second step itself.',
  })
  @Omittable()
  @IsBoolean()
  requireSecondStep?: boolean;
}

/** `identity.accounts.update`. */
export class UpdateAccountRequest extends AccountRequest {
  @IsDefined()
  @Nested(() => UpdateAccountBody)
  body: UpdateAccountBody;
}

/** `POST /v1/accounts/{id}/owner`: hands the account to another member. */
export class TransferOwnershipBody {
  @ApiProperty({ format: 'uuid', description: 'The new owner: a user who is an active member of the account and has set a password' })
  @IsUuid()
  userId: string;

  @ApiProperty({
    description: 'The role (name or id) the current owner keeps in the account once the new owner takes over',
    example: 'Admin',
    maxLength: MAX_NAME_LENGTH,
  })
  @IsString()
  @CodePointLength(1, MAX_NAME_LENGTH)
  previousOwnerRole: string;
}

/** `identity.accounts.transfer-ownership`: only the account's owner may hand it over (`body.previousOwnerRole` a role id, resolved by the gateway). */
export class TransferOwnershipRequest extends AccountRequest {
  @IsDefined()
  @Nested(() => TransferOwnershipBody)
  body: TransferOwnershipBody;

  /**
   * The name of that role as the gateway found it, for the hand-over mails (without it, the previous
   * owner's notice leaves out the role): as stored, so as long as {@link MAX_STORED_NAME_LENGTH}.
   */
  @IsOptional()
  @IsString()
  @CodePointLength(1, MAX_STORED_NAME_LENGTH)
  previousOwnerRoleName?: string;
}

import { ApiProperty, ApiPropertyOptional } from './api-docs.js';
import { Equals, IsBoolean, IsDefined, IsString, Length } from 'class-validator';
import { Nested } from './nested.js';
import { EditedApplications, HeldRoles, LimitedToApplications } from './held-roles.js';
import { AccountRequest, PageQuery } from './account-request.js';
import { Principal } from './actor.js';
import { IsInstant } from './audit.contract.js';
import { Omittable } from './omittable.js';
import { ClientContext } from './shared.dto.js';
import { IsDescription, IsName, MAX_DESCRIPTION_LENGTH, MAX_NAME_LENGTH } from './text-length.js';
import { CreatedView } from './users.contract.js';
import { IsUuid } from './uuid.js';

/** The marker every API key secret starts with (so that a leaked one is recognised by secret scanners and people alike). */
export const SERVICE_ACCOUNT_SECRET_PREFIX = 'psk_';
/** How many characters of a secret its key's `hint` shows: the prefix and four more (24 of its 256 random bits). */
export const SERVICE_ACCOUNT_SECRET_HINT_LENGTH = SERVICE_ACCOUNT_SECRET_PREFIX.length + 4;

/** `POST /v1/accounts/{accountId}/service-accounts`: a program's identity in the account, with the roles it holds. */
export class CreateServiceAccountBody {
  @ApiProperty({ example: 'billing-sync', description: 'Unique in the account (case ignored)', maxLength: MAX_NAME_LENGTH })
  @IsName(MAX_NAME_LENGTH)
  name: string;

  @ApiPropertyOptional({ maxLength: MAX_DESCRIPTION_LENGTH })
  @Omittable()
  @IsDescription()
  description?: string;

  @ApiProperty({ type: [String], example: ['Developer'], description: 'Role names (or ids) from the account catalogue' })
  @HeldRoles()
  roles: string[];

  @ApiPropertyOptional({ type: [String], description: 'Limit the roles to these applications; absent: all applications' })
  @Omittable()
  @LimitedToApplications()
  applicationIds?: string[];
}

/** `PATCH /v1/accounts/{accountId}/service-accounts/{serviceAccountId}`: only the fields given change. */
export class UpdateServiceAccountBody {
  @ApiPropertyOptional({ maxLength: MAX_NAME_LENGTH })
  @Omittable()
  @IsName(MAX_NAME_LENGTH)
  name?: string;

  @ApiPropertyOptional({ maxLength: MAX_DESCRIPTION_LENGTH })
  @Omittable()
  @IsDescription()
  description?: string;

  @ApiPropertyOptional({ description: 'false: its keys are refused and the tokens it holds stop working at once' })
  @Omittable()
  @IsBoolean()
  active?: boolean;

  @ApiPropertyOptional({ type: [String] })
  @Omittable()
  @HeldRoles()
  roles?: string[];

  @ApiPropertyOptional({
    type: [String],
    nullable: true,
    description: 'null: every application; absent: the applications its roles are limited to now (required with roles when it holds none)',
  })
  @EditedApplications()
  applicationIds?: string[] | null;
}

/** A service account as the API shows it. */
export class ServiceAccountView {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() name: string;
  @ApiProperty() description: string;
  @ApiProperty({ type: [String] }) roles: string[];
  @ApiProperty({ type: [String], nullable: true, description: 'null: every application' }) applicationIds: string[] | null;
  @ApiProperty({ description: 'false: its keys are refused' }) active: boolean;
  @ApiProperty({ type: Principal, nullable: true, description: 'Who created it' }) createdBy: Principal | null;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({ format: 'date-time', nullable: true, type: String, description: 'When one of its keys was last exchanged for a token' })
  lastUsedAt: string | null;
}

/** A service account as identity knows it (roles and applications come from access). */
export type ServiceAccountRecord = Omit<ServiceAccountView, 'roles' | 'applicationIds'>;

/** A page of service accounts, by name. */
export class ServiceAccountPageView {
  @ApiProperty({ type: [ServiceAccountView] }) items: ServiceAccountView[];
  @ApiProperty({ nullable: true, type: String }) nextCursor: string | null;
}

/** `identity.service-accounts.list`. */
export class ListServiceAccountsRequest extends AccountRequest {
  @IsDefined()
  @Nested(() => PageQuery)
  query: PageQuery;
}

/** A request about one service account of the account. */
export class ServiceAccountRequest extends AccountRequest {
  @IsUuid()
  serviceAccountId: string;
}

/** `identity.service-accounts.create`: roles and applications are carried for the audit trail; access holds the bindings. */
export class CreateServiceAccountRequest extends AccountRequest {
  @IsDefined()
  @Nested(() => CreateServiceAccountBody)
  body: CreateServiceAccountBody;

  /** The gateway's key for this create (NATS only): the same create sent again with it, after an answer was lost, is done once. */
  @Omittable()
  @IsUuid()
  requestKey?: string;
}

/** `identity.service-accounts.update`. */
export class UpdateServiceAccountRequest extends ServiceAccountRequest {
  @IsDefined()
  @Nested(() => UpdateServiceAccountBody)
  body: UpdateServiceAccountBody;
}

/** `POST .../service-accounts/{serviceAccountId}/keys`. */
export class CreateServiceAccountKeyBody {
  @ApiPropertyOptional({ format: 'date-time', description: 'When the key stops working (in the future); absent: until revoked' })
  @Omittable()
  @IsInstant()
  expiresAt?: string;
}

/** An API key as listed: never its secret. */
export class ServiceAccountKeyView {
  @ApiProperty({ format: 'uuid', description: 'The client id of the client-credentials grant' }) id: string;
  @ApiProperty({ example: 'psk_Xk3a', description: 'The first characters of its secret, to tell keys apart' }) hint: string;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({ format: 'date-time', nullable: true, type: String, description: 'null: until revoked' }) expiresAt: string | null;
  @ApiProperty({ format: 'date-time', nullable: true, type: String }) lastUsedAt: string | null;
}

/** What creating a key answers, once: its secret is never shown again (identity keeps only its hash). */
export class CreatedServiceAccountKeyView extends ServiceAccountKeyView {
  @ApiProperty({ description: 'The client secret (256 random bits): shown this once, store it now' }) secret: string;
}

/** `identity.service-accounts.keys.create`. */
export class CreateServiceAccountKeyRequest extends ServiceAccountRequest {
  @IsDefined()
  @Nested(() => CreateServiceAccountKeyBody)
  body: CreateServiceAccountKeyBody;
}

/** A request about one key of a service account. */
export class ServiceAccountKeyRequest extends ServiceAccountRequest {
  @IsUuid()
  keyId: string;
}

/** The longest client id (a key id is a UUID: anything longer is no key) and client secret a token request may carry. */
export const MAX_CLIENT_ID_LENGTH = 100;
export const MAX_CLIENT_SECRET_LENGTH = 200;

/** The answer to an exchange that cannot tell which of its parts was wrong (RFC 6749 `invalid_client`). */
export const INVALID_CLIENT = 'Client id or secret is incorrect, or the key is revoked or expired';

/** `POST /v1/auth/token` (OAuth 2.0 client-credentials grant, RFC 6749 §4.4), as JSON; the client may send its id and secret with HTTP Basic instead. */
export class ClientCredentialsBody {
  @ApiProperty({ enum: ['client_credentials'] })
  @Equals('client_credentials', { message: 'grant_type must be client_credentials' })
  grant_type: 'client_credentials';

  @ApiPropertyOptional({ description: 'The key id, a UUID (or in the Authorization header, Basic); any other text is an unknown client (401)' })
  @Omittable()
  @IsString()
  @Length(1, MAX_CLIENT_ID_LENGTH)
  client_id?: string;

  @ApiPropertyOptional({ description: 'The key secret (or in the Authorization header, Basic)' })
  @Omittable()
  @IsString()
  @Length(1, MAX_CLIENT_SECRET_LENGTH)
  client_secret?: string;
}

/** `identity.auth.token`: a key's id and secret, and where the request came from. */
export class ClientCredentialsRequest {
  @IsString()
  @Length(1, MAX_CLIENT_ID_LENGTH)
  clientId: string;

  @IsString()
  @Length(1, MAX_CLIENT_SECRET_LENGTH)
  clientSecret: string;

  @IsDefined()
  @Nested(() => ClientContext)
  client: ClientContext;
}

/** What a client-credentials grant answers (RFC 6749 §5.1): an access token, no refresh token. */
export class ClientCredentialsTokenView {
  @ApiProperty({ description: 'Short-lived JWT (ES256) for the Authorization header; the service account is its principal' }) access_token: string;
  @ApiProperty({ enum: ['Bearer'] }) token_type: 'Bearer';
  @ApiProperty({ description: 'Seconds until the access token expires' }) expires_in: number;
}

/** What creating a service account answers. */
export class CreatedServiceAccountView extends CreatedView {}

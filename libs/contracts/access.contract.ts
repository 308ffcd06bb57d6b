import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsDefined, IsOptional, IsString, IsUUID, Length, ValidateNested } from 'class-validator';
import { Principal } from './actor.js';

/** `access.check`: may this principal do this action on this section of this account (and application)? */
export class CheckRequest {
  @IsDefined()
  @ValidateNested()
  @Type(() => Principal)
  principal: Principal;

  @IsUUID()
  accountId: string;

  @ApiProperty({ example: 'scenarios' })
  @IsString()
  @Length(1, 100)
  section: string;

  @ApiProperty({ example: 'read' })
  @IsString()
  @Length(1, 50)
  action: string;

  @ApiPropertyOptional({ format: 'uuid' })
  @IsOptional()
  @IsUUID()
  applicationId?: string;
}

/** Why a decision came out as it did. `not-member`: the principal has nothing in that account (the gateway answers 404). */
export type CheckReason = 'owner' | 'granted' | 'not-granted' | 'not-member';

/** The answer to a {@link CheckRequest}. */
export interface CheckResult {
  allowed: boolean;
  reason: CheckReason;
}

/** `access.roles.of-principal`: the role names a principal holds in each of the given accounts. */
export class RolesOfPrincipalRequest {
  @IsDefined()
  @ValidateNested()
  @Type(() => Principal)
  principal: Principal;

  @IsArray()
  @ArrayMaxSize(1000)
  @IsUUID('all', { each: true })
  accountIds: string[];
}

/** Account id -> role names (the owner's role first). */
export type RolesByAccount = Record<string, { roles: string[]; owner: boolean }>;

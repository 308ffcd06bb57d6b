import { ApiProperty } from './api-docs.js';
import { IsIn } from 'class-validator';
import { IsUuid } from './uuid.js';

/** The kinds of principal that can act: a person with a platform login, a login of one account, or a service account of one account (a program, with API keys). */
export const PRINCIPAL_TYPES = ['user', 'subuser', 'service-account'] as const;
/** A kind of principal. */
export type PrincipalType = (typeof PRINCIPAL_TYPES)[number];

/** Who acts: a user (in the context of an account) or a subuser. */
export class Principal {
  @ApiProperty({ enum: PRINCIPAL_TYPES })
  @IsIn(PRINCIPAL_TYPES)
  type: PrincipalType;

  @ApiProperty({ format: 'uuid' })
  @IsUuid()
  id: string;
}

/**
 * The verified caller, as the gateway learned it from the access token. Carried in every NATS
 * request made on someone's behalf; services decide on it and never on the calling service.
 */
export class Actor extends Principal {
  /** The session the access token belongs to. */
  @IsUuid()
  sessionId: string;
}

/** Just the principal of an actor (who acts, without the session), or of any object that names one: what access decides on and audit records. */
export function principalOf(principal: Principal): Principal {
  return { type: principal.type, id: principal.id };
}

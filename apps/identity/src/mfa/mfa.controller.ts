import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { ActorClientRequest, ConfirmTotpRequest, SecondFactorChangeRequest, StartTotpRequest, Subjects, type RpcResponse } from '#libs/contracts/index.js';
import { MfaService } from './mfa.service.js';

/** NATS handlers for the caller's own two-step sign-in: status, setting up an authenticator, turning it off, recovery codes. */
@Controller()
export class MfaController {
  constructor(private readonly mfa: MfaService) {}

  @MessagePattern(Subjects.MeMfaStatus)
  status(@Payload() request: ActorClientRequest): Promise<RpcResponse<typeof Subjects.MeMfaStatus>> {
    return this.mfa.status(request.actor);
  }

  @MessagePattern(Subjects.MeMfaTotpStart)
  startTotp(@Payload() request: StartTotpRequest): Promise<RpcResponse<typeof Subjects.MeMfaTotpStart>> {
    return this.mfa.startTotp(request);
  }

  @MessagePattern(Subjects.MeMfaTotpConfirm)
  confirmTotp(@Payload() request: ConfirmTotpRequest): Promise<RpcResponse<typeof Subjects.MeMfaTotpConfirm>> {
    return this.mfa.confirmTotp(request);
  }

  @MessagePattern(Subjects.MeMfaDisable)
  disable(@Payload() request: SecondFactorChangeRequest): Promise<RpcResponse<typeof Subjects.MeMfaDisable>> {
    return this.mfa.disable(request);
  }

  @MessagePattern(Subjects.MeMfaRecoveryCodesRenew)
  renewRecoveryCodes(@Payload() request: SecondFactorChangeRequest): Promise<RpcResponse<typeof Subjects.MeMfaRecoveryCodesRenew>> {
    return this.mfa.renewRecoveryCodes(request);
  }
}

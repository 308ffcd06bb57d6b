import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { AccountRequest, ActorClientRequest, LinkTokenRequest, Subjects, type RpcResponse } from '#libs/contracts/index.js';
import { InvitationsService } from './invitations.service.js';

/** NATS handlers for someone who has a login answering an account's invitation. */
@Controller()
export class InvitationsController {
  constructor(private readonly invitations: InvitationsService) {}

  @MessagePattern(Subjects.AuthInvitationAccept)
  acceptByLink(@Payload() request: LinkTokenRequest): Promise<RpcResponse<typeof Subjects.AuthInvitationAccept>> {
    return this.invitations.acceptByLink(request);
  }

  @MessagePattern(Subjects.AuthInvitationDecline)
  declineByLink(@Payload() request: LinkTokenRequest): Promise<RpcResponse<typeof Subjects.AuthInvitationDecline>> {
    return this.invitations.declineByLink(request);
  }

  @MessagePattern(Subjects.MeInvitationsList)
  listOwn(@Payload() request: ActorClientRequest): Promise<RpcResponse<typeof Subjects.MeInvitationsList>> {
    return this.invitations.listOwn(request.actor);
  }

  @MessagePattern(Subjects.MeInvitationAccept)
  acceptOwn(@Payload() request: AccountRequest): Promise<RpcResponse<typeof Subjects.MeInvitationAccept>> {
    return this.invitations.acceptOwn(request);
  }

  @MessagePattern(Subjects.MeInvitationDecline)
  declineOwn(@Payload() request: AccountRequest): Promise<RpcResponse<typeof Subjects.MeInvitationDecline>> {
    return this.invitations.declineOwn(request);
  }
}

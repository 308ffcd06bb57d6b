import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { DataSource } from 'typeorm';
import { FeedAuditEventsRequest, ListAuditEventsRequest, Subjects, type RpcResponse } from '#libs/contracts/index.js';
import { accountOfActor } from '../accounts/account-scope.js';
import { AuditService } from './audit.service.js';

/** NATS handler for an account's audit trail. */
@Controller()
export class AuditController {
  constructor(
    private readonly audit: AuditService,
    private readonly dataSource: DataSource,
  ) {}

  @MessagePattern(Subjects.AuditList)
  async list(@Payload() request: ListAuditEventsRequest): Promise<RpcResponse<typeof Subjects.AuditList>> {
    await accountOfActor(this.dataSource.manager, request.actor, request.accountId);
    return this.audit.list(request.accountId, request.query);
  }

  @MessagePattern(Subjects.AuditFeed)
  async feed(@Payload() request: FeedAuditEventsRequest): Promise<RpcResponse<typeof Subjects.AuditFeed>> {
    await accountOfActor(this.dataSource.manager, request.actor, request.accountId);
    return this.audit.feed(request.accountId, request.query);
  }
}

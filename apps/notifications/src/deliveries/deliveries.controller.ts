import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { ListDeliveriesRequest, Subjects, type DeliveryPage } from '#libs/contracts/index.js';
import { DeliveryLogService } from './delivery-log.service.js';

/** NATS handlers of the delivery log. */
@Controller()
export class DeliveriesController {
  constructor(private readonly log: DeliveryLogService) {}

  @MessagePattern(Subjects.DeliveriesList)
  list(@Payload() request: ListDeliveriesRequest): Promise<DeliveryPage> {
    return this.log.list(request);
  }
}

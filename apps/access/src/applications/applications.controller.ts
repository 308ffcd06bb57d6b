import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import {
  CreateApplicationRequest,
  DeleteApplicationRequest,
  ListApplicationsRequest,
  RenameApplicationRequest,
  Subjects,
  type ApplicationView,
  type Page,
} from '#libs/contracts/index.js';
import { ApplicationsService } from './applications.service.js';

/** NATS handlers for applications. */
@Controller()
export class ApplicationsController {
  constructor(private readonly applications: ApplicationsService) {}

  @MessagePattern(Subjects.AccessApplicationsList)
  list(@Payload() request: ListApplicationsRequest): Promise<Page<ApplicationView>> {
    return this.applications.list(request);
  }

  @MessagePattern(Subjects.AccessApplicationsCreate)
  create(@Payload() request: CreateApplicationRequest): Promise<ApplicationView> {
    return this.applications.create(request);
  }

  @MessagePattern(Subjects.AccessApplicationsRename)
  rename(@Payload() request: RenameApplicationRequest): Promise<ApplicationView> {
    return this.applications.rename(request);
  }

  @MessagePattern(Subjects.AccessApplicationsDelete)
  delete(@Payload() request: DeleteApplicationRequest): Promise<{ deleted: true }> {
    return this.applications.delete(request);
  }
}

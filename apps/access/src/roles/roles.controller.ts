import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import {
  CreateRoleRequest,
  DeleteRoleRequest,
  GetRoleRequest,
  ListRoleHoldersRequest,
  ListRolesRequest,
  Subjects,
  UpdateRoleRequest,
  type Page,
  type RoleHolderView,
  type RoleView,
} from '#libs/contracts/index.js';
import { RolesService } from './roles.service.js';

/** NATS handlers for roles. */
@Controller()
export class RolesController {
  constructor(private readonly roles: RolesService) {}

  @MessagePattern(Subjects.AccessRolesList)
  list(@Payload() request: ListRolesRequest): RoleView[] | Promise<RoleView[]> {
    return this.roles.list(request);
  }

  @MessagePattern(Subjects.AccessRolesGet)
  get(@Payload() request: GetRoleRequest): Promise<RoleView> {
    return this.roles.get(request);
  }

  @MessagePattern(Subjects.AccessRolesHolders)
  holders(@Payload() request: ListRoleHoldersRequest): Promise<Page<RoleHolderView>> {
    return this.roles.holders(request);
  }

  @MessagePattern(Subjects.AccessRolesCreate)
  create(@Payload() request: CreateRoleRequest): Promise<RoleView> {
    return this.roles.create(request);
  }

  @MessagePattern(Subjects.AccessRolesUpdate)
  update(@Payload() request: UpdateRoleRequest): Promise<RoleView> {
    return this.roles.update(request);
  }

  @MessagePattern(Subjects.AccessRolesDelete)
  delete(@Payload() request: DeleteRoleRequest): Promise<{ deleted: true }> {
    return this.roles.delete(request);
  }
}

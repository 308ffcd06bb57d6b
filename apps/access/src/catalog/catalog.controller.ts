import { Controller } from '@nestjs/common';
import { MessagePattern } from '@nestjs/microservices';
import { Subjects, type CatalogView } from '#libs/contracts/index.js';
import { DecisionStore } from '../checks/decision-store.js';

/** NATS handler for the section catalogue. */
@Controller()
export class CatalogController {
  constructor(private readonly store: DecisionStore) {}

  @MessagePattern(Subjects.AccessCatalogGet)
  get(): CatalogView {
    const { name, ownerRole, sections } = this.store.catalog;
    return { name, ownerRole, sections: sections.map(({ key, label, scope, actions }) => ({ key, label, scope, actions })) };
  }
}

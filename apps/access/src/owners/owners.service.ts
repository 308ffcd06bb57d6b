import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import type { Logger } from 'pino';
import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import {
  ACCOUNT_EVENTS,
  Events,
  type AccessChangeBy,
  type AccountCreatedData,
  type EventDataMap,
  type EventEnvelope,
  type EventType,
  DurableConsumers,
  type Principal,
} from '#libs/contracts/index.js';
import { DurableConsumer, LOGGER, NATS_LINK, PermanentEventError, RetryEventLaterError, UnknownEventTypes, type NatsLink } from '#libs/platform/index.js';
import { ApplicationEntity } from '../applications/application.entity.js';
import { BindingEntity } from '../bindings/binding.entity.js';
import { PrincipalActivityEntity } from '../principals/principal-activity.entity.js';
import { RoleEntity } from '../roles/role.entity.js';
import { DecisionStore, type RoleRecord } from '../checks/decision-store.js';
import { AccessStateService } from '../state/access-state.service.js';
import { firstTime, firstTimeInOpenAccount } from '../state/applied-events.js';
import { withCanonicalIds } from '../state/event-ids.js';
import { OutboxRelay, OutboxWriter } from '#libs/outbox/index.js';
import { writeBindingsReplaced } from '../bindings/bindings-replaced.js';
import { AccountOwnerEntity } from './account-owner.entity.js';

/** The event with the ids of its data checked and lower-cased (see {@link withCanonicalIds}); PermanentEventError when one is not a UUID. */
function withIds<T extends EventType>(event: EventEnvelope<T>, fields: ReadonlyArray<keyof EventDataMap[T] & string>): EventEnvelope<T> {
  if (typeof event.data !== 'object' || event.data === null) throw new PermanentEventError('An account event without its data');
  return { ...event, data: withCanonicalIds<EventDataMap[T]>(event.data, fields) };
}

/** Access's tables of an account's state, bindings first (they name roles and applications); `account_versions` stays. */
const ACCOUNT_STATE = [BindingEntity, RoleEntity, ApplicationEntity, PrincipalActivityEntity, AccountOwnerEntity];

/** How long an account event of a type this release does not know waits before it is delivered again (until access is upgraded). */
export const UNKNOWN_ACCOUNT_EVENT_RETRY_MS = 5 * 60 * 1000;

/** The durable JetStream consumer (shared by access's replicas) that learns account owners from identity's events. */
export const OWNERS_CONSUMER = DurableConsumers.Owners;

/** Learns account owners, and hand-overs, from identity's durable events (the owner holds every permission of the account). */
@Injectable()
export class OwnersService implements OnApplicationBootstrap, OnModuleDestroy {
  private consumer: DurableConsumer | undefined;
  private readonly unknownTypes: UnknownEventTypes;

  constructor(
    private readonly state: AccessStateService,
    private readonly store: DecisionStore,
    private readonly outbox: OutboxWriter,
    private readonly relay: OutboxRelay,
    @Inject(NATS_LINK) private readonly link: NatsLink,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.unknownTypes = new UnknownEventTypes(logger, 'Account events of a type this release does not know are kept for a newer access');
  }

  async onApplicationBootstrap(): Promise<void> {
    this.consumer = new DurableConsumer({
      link: this.link,
      durableName: OWNERS_CONSUMER,
      filterSubject: ACCOUNT_EVENTS,
      logger: this.logger,
      handle: (event) => this.handle(event),
    });
    await this.consumer.start();
  }

  async onModuleDestroy(): Promise<void> {
    await this.consumer?.stop();
  }

  /**
   * Applies one of identity's account events. One of a type this release does not know (a newer
   * identity's, during a rolling upgrade) is kept, delivered again every few minutes, for a newer
   * access to apply: acknowledged, it would be lost (a closure, say, whose account would keep its owner).
   */
  async handle(event: EventEnvelope): Promise<void> {
    if (event.type === Events.AccountCreated) return this.apply(withIds(event as EventEnvelope<typeof Events.AccountCreated>, ['accountId', 'ownerUserId']));
    if (event.type === Events.OwnershipTransferred) {
      return this.applyTransfer(withIds(event as EventEnvelope<typeof Events.OwnershipTransferred>, ['accountId', 'fromUserId', 'toUserId']));
    }
    if (event.type === Events.AccountClosed) return this.applyClosure(withIds(event as EventEnvelope<typeof Events.AccountClosed>, ['accountId']));
    this.unknownTypes.note(event.type, { retryInMs: UNKNOWN_ACCOUNT_EVENT_RETRY_MS });
    throw new RetryEventLaterError(`Unknown account event type ${event.type}`, UNKNOWN_ACCOUNT_EVENT_RETRY_MS);
  }

  /** Applies an account-created event once (a redelivered event is recognised and skipped), unless the account was closed since. */
  async apply(event: EventEnvelope<typeof Events.AccountCreated>): Promise<void> {
    const data: AccountCreatedData = event.data;
    await this.state.mutate(data.accountId, async (manager) => {
      if (!(await firstTimeInOpenAccount(manager, event.id, data.accountId))) return;
      await manager.createQueryBuilder().insert().into(AccountOwnerEntity).values({ accountId: data.accountId, userId: data.ownerUserId }).orIgnore().execute();
    });
  }

  /**
   * Applies an account's closure once: whatever access holds of it goes (its owner; roles,
   * applications and bindings, which an account closed before anyone acted in it has none of; the
   * activity of its principals). Its version stays, raised, so that every replica reloads it empty
   * and answers not-member there. It is remembered as closed (`closed_accounts`): an event about it
   * applied later (its creation redelivered, an activity change of another consumer) puts nothing back.
   */
  async applyClosure(event: EventEnvelope<typeof Events.AccountClosed>): Promise<void> {
    const { accountId } = event.data;
    await this.state.mutate(accountId, async (manager) => {
      if (!(await firstTime(manager, event.id))) return;
      await manager.query('INSERT INTO closed_accounts (account_id) VALUES ($1) ON CONFLICT DO NOTHING', [accountId]);
      for (const entity of ACCOUNT_STATE) await manager.delete(entity, { accountId });
    });
  }

  /**
   * Applies a hand-over once, and only over an older one (`ownerVersion`: events of two hand-overs
   * may arrive in either order). The new owner holds everything, so the bindings they had go (kept,
   * they would still count as holding their roles, which could then never be deleted, as nobody may
   * unbind the owner). The previous owner holds `previousOwnerRole` in every application instead
   * of whatever bindings they had. Should that role have been deleted since the gateway checked
   * it, they get the catalogue's broadest built-in role instead (logged), never nothing.
   *
   * A hand-over older than one applied already (its event arrived late) moves nobody, and leaves
   * everyone's bindings as they are (who holds what was decided after it), with one exception: its
   * previous owner, who as the owner until then held no bindings, gets the role it names (or the
   * broadest built-in one) when they still hold none, are not the owner now, and are not inactive
   * in the account. Otherwise a later hand-over applied first would leave them with nothing, a
   * member access does not know. Someone inactive there was deactivated or removed since (a
   * removal also drops their bindings): they get nothing back.
   */
  async applyTransfer(event: EventEnvelope<typeof Events.OwnershipTransferred>): Promise<void> {
    const { accountId, fromUserId, toUserId, previousOwnerRole, ownerVersion } = event.data;
    if (!Number.isSafeInteger(ownerVersion)) {
      this.logger.error({ eventId: event.id, accountId }, 'A hand-over event without its owner version; not applied');
      return;
    }
    // The previous owner hands over: the roles it changes are theirs to answer for in the audit trail.
    const by = { accountId, actor: { type: 'user' as const, id: fromUserId }, ip: null };
    const told = await this.state.mutate(accountId, async (manager, version) => {
      if (!(await firstTimeInOpenAccount(manager, event.id, accountId))) return false;
      if (await moveOwner(manager, accountId, toUserId, ownerVersion)) {
        const newOwner: Principal = { type: 'user', id: toUserId };
        const dropped = this.store.bindingsOf(newOwner, accountId);
        await manager.delete(BindingEntity, userOf(accountId, toUserId));
        const toldDropped = await writeBindingsReplaced(manager, this.events, by, { principal: newOwner, before: dropped, after: [], version });
        return (await this.bindPreviousOwner(manager, { by, version }, fromUserId, previousOwnerRole)) || toldDropped;
      }
      return this.isLeftWithNothing(accountId, fromUserId) && this.bindPreviousOwner(manager, { by, version }, fromUserId, previousOwnerRole);
    });
    if (told) this.relay.nudge();
  }

  /** Replaces the bindings of the previous owner with the role they keep, in every application; answers whether it told of a change. */
  private async bindPreviousOwner(
    manager: EntityManager,
    { by, version }: { by: AccessChangeBy; version: number },
    userId: string,
    roleId: string,
  ): Promise<boolean> {
    const { accountId } = by;
    const role = this.store.role(accountId, roleId) ?? this.broadestBuiltinRole(accountId, roleId);
    const previousOwner = userOf(accountId, userId);
    const before = this.store.bindingsOf({ type: 'user', id: userId }, accountId);
    await manager.delete(BindingEntity, previousOwner);
    await manager.insert(BindingEntity, { id: randomUUID(), ...previousOwner, roleId: role.id, applicationIds: null });
    const after = [{ roleId: role.id, applicationIds: null }];
    return writeBindingsReplaced(manager, this.events, by, { principal: { type: 'user', id: userId }, before, after, version });
  }

  /** What {@link writeBindingsReplaced} needs. */
  private get events() {
    return { store: this.store, outbox: this.outbox };
  }

  /**
   * Whether the previous owner of a late hand-over still lacks the role it gave them: not the owner,
   * no bindings, not inactive (removed or deactivated since). Judged on the account's committed
   * state, which {@link AccessStateService.mutate} holds in the store.
   */
  private isLeftWithNothing(accountId: string, userId: string): boolean {
    const previousOwner: Principal = { type: 'user', id: userId };
    return (
      !this.store.isOwner(previousOwner, accountId) &&
      this.store.bindingsOf(previousOwner, accountId).length === 0 &&
      !this.store.isInactive(previousOwner, accountId)
    );
  }

  private broadestBuiltinRole(accountId: string, missing: string): RoleRecord {
    const grantCount = (role: RoleRecord) => Object.values(role.grants).reduce((count, actions) => count + actions.length, 0);
    const [broadest] = this.store
      .roles(accountId)
      .filter((role) => role.builtin)
      .sort((a, b) => grantCount(b) - grantCount(a));
    this.logger.warn(
      { accountId, missing, instead: broadest.name },
      'The role the previous owner was to keep no longer exists; they get the broadest built-in role',
    );
    return broadest;
  }
}

/** The bindings' key of a user in an account. */
function userOf(accountId: string, userId: string): Pick<BindingEntity, 'accountId' | 'principalType' | 'principalId'> {
  return { accountId, principalType: 'user', principalId: userId };
}

/** Makes `userId` the owner unless a hand-over as new or newer was applied already; whether it did. */
async function moveOwner(manager: EntityManager, accountId: string, userId: string, ownerVersion: number): Promise<boolean> {
  const moved = await manager.query<unknown[]>(
    `INSERT INTO account_owners (account_id, user_id, owner_version) VALUES ($1, $2, $3)
     ON CONFLICT (account_id) DO UPDATE SET user_id = EXCLUDED.user_id, owner_version = EXCLUDED.owner_version
     WHERE account_owners.owner_version < EXCLUDED.owner_version
     RETURNING account_id`,
    [accountId, userId, ownerVersion],
  );
  return moved.length > 0;
}

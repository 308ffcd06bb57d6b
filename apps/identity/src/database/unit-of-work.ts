import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';

/**
 * One transaction, what must be done last in it, and what must happen once it has committed (broadcasting ended sessions,
 * waking the outbox relay): those effects run only after a successful commit, never for a
 * rolled-back change.
 */
export class UnitOfWork {
  private readonly effects: Array<() => void> = [];
  private readonly lastSteps: Array<() => Promise<void>> = [];

  constructor(readonly manager: EntityManager) {}

  /** Runs `step` in the transaction once its work is done, before the commit (deduplicated by function identity); its failure rolls the change back. */
  beforeCommit(step: () => Promise<void>): void {
    if (!this.lastSteps.includes(step)) this.lastSteps.push(step);
  }

  /** @internal */
  async runLastSteps(): Promise<void> {
    for (const step of this.lastSteps.splice(0)) await step();
  }

  /** Runs `effect` after the commit (deduplicated by function identity). */
  afterCommit(effect: () => void): void {
    if (!this.effects.includes(effect)) this.effects.push(effect);
  }

  /** @internal */
  runEffects(): void {
    for (const effect of this.effects.splice(0)) effect();
  }
}

/** Runs work in a transaction, then its after-commit effects. */
@Injectable()
export class Transactions {
  constructor(private readonly dataSource: DataSource) {}

  async run<T>(work: (unit: UnitOfWork) => Promise<T>): Promise<T> {
    let unit: UnitOfWork | undefined;
    const result = await this.dataSource.transaction(async (manager) => {
      unit = new UnitOfWork(manager);
      const done = await work(unit);
      await unit.runLastSteps();
      return done;
    });
    unit?.runEffects();
    return result;
  }
}

import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';

/**
 * One transaction and what must happen once it has committed (broadcasting ended sessions,
 * waking the outbox relay): those effects run only after a successful commit, never for a
 * rolled-back change.
 */
export class UnitOfWork {
  private readonly effects: Array<() => void> = [];

  constructor(readonly manager: EntityManager) {}

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
      return work(unit);
    });
    unit?.runEffects();
    return result;
  }
}

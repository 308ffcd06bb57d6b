import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { LOGGER } from '#libs/platform/index.js';

/** What identity warns of at start on a database whose lower() folds ASCII letters only. */
export const ASCII_ONLY_FOLDING_WARNING =
  "This database's LC_CTYPE folds ASCII letters only (C or POSIX): the user table's search ignores case for ASCII letters only " +
  '(ivan finds Ivan, иван does not find Иван), and two logins may differ only in the case of a letter beyond ASCII. ' +
  'Create the database with LC_CTYPE C.UTF-8 or another UTF-8 locale (docs/deploy.md, section 2)';

/** Whether the database's `lower()` folds letters beyond ASCII (`É` to `é`, `Σ` to `σ`): not under LC_CTYPE=C. */
export async function foldsBeyondAscii(dataSource: DataSource): Promise<boolean> {
  const [{ folds }] = await dataSource.query<Array<{ folds: boolean }>>(`SELECT lower('ÉΣ') = 'éσ' AS folds`);
  return folds;
}

/**
 * At start, warns once when the database folds case for ASCII letters only: identity's e-mail
 * uniqueness and the user table's case-insensitive search rest on PostgreSQL's `lower()`, which
 * follows the database's LC_CTYPE. A warning, not a refusal: such a database works, with that
 * narrower folding. Never delays the start nor fails it (a database not there yet is readiness's to report).
 */
@Injectable()
export class CaseFoldingCheck implements OnApplicationBootstrap {
  constructor(
    private readonly dataSource: DataSource,
    @Inject(LOGGER) private readonly logger: Pick<Logger, 'warn'>,
  ) {}

  onApplicationBootstrap(): void {
    void this.check();
  }

  /** Whether the database folds beyond ASCII (undefined when it could not be asked); warns when it does not. */
  async check(): Promise<boolean | undefined> {
    try {
      const folds = await foldsBeyondAscii(this.dataSource);
      if (!folds) this.logger.warn(ASCII_ONLY_FOLDING_WARNING);
      return folds;
    } catch {
      return undefined;
    }
  }
}

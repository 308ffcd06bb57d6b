import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Clock } from '#libs/platform/index.js';
import { TRIGRAM_SEARCH_FROM } from './user-table.js';

const REMEMBER_MS = 10 * 60_000;
const MAX_REMEMBERED = 50_000;

/**
 * Whether an account has at least {@link TRIGRAM_SEARCH_FROM} members, remembered for a while per
 * replica (sizes change slowly, and a stale answer only picks a slower plan, never wrong rows).
 * Counting stops at the threshold, so a huge account costs as little as a small one.
 */
@Injectable()
export class AccountSizes {
  private readonly known = new Map<string, { large: boolean; at: number }>();

  constructor(
    private readonly dataSource: DataSource,
    private readonly clock: Clock,
  ) {}

  async isLarge(accountId: string): Promise<boolean> {
    const now = this.clock.now().getTime();
    const cached = this.known.get(accountId);
    if (cached && now - cached.at < REMEMBER_MS) return cached.large;
    const [{ members }] = await this.dataSource.query<Array<{ members: string }>>(
      `SELECT count(*) AS members FROM (SELECT 1 FROM memberships WHERE account_id = $1 LIMIT $2) AS first_members`,
      [accountId, TRIGRAM_SEARCH_FROM],
    );
    const large = Number(members) >= TRIGRAM_SEARCH_FROM;
    if (this.known.size >= MAX_REMEMBERED) this.known.clear();
    this.known.set(accountId, { large, at: now });
    return large;
  }
}

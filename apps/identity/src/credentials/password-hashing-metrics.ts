import { Injectable } from '@nestjs/common';
import { Counter } from 'prom-client';
import { GaugeReadOnScrape, processMetrics, ScrapedGauges } from '#libs/platform/metrics.js';
import { PasswordHasher } from './password-hasher.js';

/** How busy this process's argon2 is (docs/deploy.md, section 10): what saturates first in a sign-in flood. */
export const passwordHashingMetrics = {
  jobs: new GaugeReadOnScrape<'state'>({
    name: 'portico_password_hashing_jobs',
    help: 'argon2 hashes and verifies of this process now: running (at most ARGON2_MAX_CONCURRENCY) or waiting (at most ARGON2_QUEUE_LIMIT)',
    labelNames: ['state'],
  }),
  refused: new Counter({
    name: 'portico_password_hashing_refused_total',
    help: 'Sign-ins and password changes refused with 503 because ARGON2_QUEUE_LIMIT jobs were already waiting',
    registers: [processMetrics],
  }),
};

/** Reads the hasher's load when Prometheus scrapes. */
@Injectable()
export class PasswordHashingGauges extends ScrapedGauges {
  constructor(private readonly hasher: PasswordHasher) {
    super();
  }

  protected readers(): Array<() => void> {
    return [
      passwordHashingMetrics.jobs.read(() => {
        const { running, waiting } = this.hasher.load();
        return [
          { labels: { state: 'running' }, value: running },
          { labels: { state: 'waiting' }, value: waiting },
        ];
      }),
    ];
  }
}

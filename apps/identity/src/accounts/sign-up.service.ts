import { Inject, Injectable } from '@nestjs/common';
import type { AccountView, ClientContext, CreateAccountBody } from '#libs/contracts/index.js';
import { CONFIG } from '#libs/platform/index.js';
import type { IdentityConfig } from '../identity.config.js';
import { ThrottleService } from '../credentials/throttle.service.js';
import { signUpAddressKey, tooManyAttempts } from '../credentials/throttle-keys.js';
import { AccountsService } from './accounts.service.js';

/**
 * Open sign-up (`POST /v1/accounts`): each one creates an account and mails an activation link to
 * any address, so it is throttled per client address (SIGNUP_ADDRESS_LIMIT, then 429), as reset
 * requests are. While sign-up is disabled nothing is counted: {@link AccountsService.create} refuses.
 */
@Injectable()
export class SignUpService {
  constructor(
    private readonly accounts: AccountsService,
    private readonly throttle: ThrottleService,
    @Inject(CONFIG) private readonly config: IdentityConfig,
  ) {}

  /**
   * `client` null: the address is unknown (a gateway of the previous release, on the deprecated
   * `identity.accounts.create`), and the sign-up is not throttled. Counting them all under one
   * "unknown" key would make a few sign-ups anywhere refuse everyone's for as long as old gateways
   * run. Unthrottled is how the previous release treated every sign-up; new gateways never use that
   * subject, and a NATS client, inside the trust boundary, could name any address anyway.
   */
  async create(body: CreateAccountBody, client: ClientContext | null): Promise<AccountView> {
    if (this.config.SIGNUP_ENABLED && client) {
      const verdict = await this.throttle.reserve([signUpAddressKey(client.ip, this.config.SIGNUP_ADDRESS_LIMIT)]);
      if (!verdict.allowed) throw tooManyAttempts(verdict.retryAfterMs);
    }
    return this.accounts.create(body, client?.ip ?? null);
  }
}

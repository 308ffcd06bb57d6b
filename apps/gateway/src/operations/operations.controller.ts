import { Controller, Get, Inject, Res } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { Subjects, type HealthView, type JwksView } from '#libs/contracts/index.js';
import { CONFIG, NATS_LINK, type NatsLink, type RpcSender } from '#libs/platform/index.js';
import { Rpc } from '../auth/current-actor.decorator.js';
import { KeyRing } from '../auth/key-ring.service.js';
import { Public } from '../auth/route-policy.js';
import type { GatewayConfig } from '../gateway.config.js';

const SERVICE_HEALTH_SUBJECTS = {
  identity: Subjects.IdentityHealth,
  access: Subjects.AccessHealth,
  notifications: Subjects.NotificationsHealth,
} as const;

/** How long one round of questions to the services answers `GET /health/system`. */
const SYSTEM_ANSWER_KEPT_MS = 1000;

/** What `GET /health/system` answers. */
interface SystemHealth {
  ready: boolean;
  services: Record<string, HealthView | { ready: false }>;
}

/** Probes and the public key set (metrics have a port of their own: see metrics-server.ts). */
@ApiTags('operations')
@Controller()
export class OperationsController {
  constructor(
    private readonly keyRing: KeyRing,
    @Inject(NATS_LINK) private readonly link: NatsLink,
    @Inject(CONFIG) private readonly config: GatewayConfig,
  ) {}

  /** The last round of questions to the services, and when it was asked. */
  private systemAnswer: { askedAt: number; answer: Promise<SystemHealth> } | undefined;

  @Get('health/live')
  @Public()
  @ApiOperation({ summary: 'Liveness: the gateway process runs' })
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /**
   * This gateway's own readiness, what a load balancer asks: whether it can carry requests to the
   * services (its NATS link is up). Not whether they answer: when one is down, every gateway is as
   * unable as this one, and taking them all out of the load balancer would turn one service's outage
   * into the whole API's (sign-in does not need notifications). {@link system} tells that.
   */
  @Get('health/ready')
  @Public()
  @ApiOperation({ summary: "Readiness of this gateway: its NATS link is up (503 otherwise); the services' own: /health/system" })
  ready(@Res({ passthrough: true }) response: Response): { ready: boolean } {
    const ready = this.link.isUp();
    response.status(ready ? 200 : 503);
    return { ready };
  }

  /**
   * The whole system's readiness, for operators and start-up scripts: NATS, and every service
   * answering ready over it. Public, as the probes are: callers at the same moment share one round
   * of questions, and an answer serves for {@link SYSTEM_ANSWER_KEPT_MS}, so that calling it in a loop
   * does not put work on every service.
   */
  @Get('health/system')
  @Public()
  @ApiOperation({ summary: 'Readiness of the whole system: NATS is up and every service answers ready (503 otherwise)' })
  async system(@Rpc() rpc: RpcSender, @Res({ passthrough: true }) response: Response): Promise<SystemHealth> {
    const now = Date.now();
    if (!this.systemAnswer || now - this.systemAnswer.askedAt >= SYSTEM_ANSWER_KEPT_MS) {
      const answer = this.askEveryService(rpc);
      this.systemAnswer = { askedAt: now, answer };
      // A round that failed outright is not kept.
      answer.catch(() => (this.systemAnswer = undefined));
    }
    const health = await this.systemAnswer.answer;
    response.status(health.ready ? 200 : 503);
    return health;
  }

  private async askEveryService(rpc: RpcSender): Promise<SystemHealth> {
    const services = Object.fromEntries(
      await Promise.all(Object.entries(SERVICE_HEALTH_SUBJECTS).map(async ([name, subject]) => [name, await this.ask(rpc, subject)] as const)),
    );
    const ready = this.link.isUp() && Object.values(services).every((service) => service.ready);
    return { ready, services };
  }

  @Get('.well-known/jwks.json')
  @Public()
  @ApiOperation({ summary: 'Public keys that verify access tokens (JWKS)' })
  jwks(): Promise<JwksView> {
    return this.keyRing.jwks();
  }

  private async ask(rpc: RpcSender, subject: (typeof SERVICE_HEALTH_SUBJECTS)[keyof typeof SERVICE_HEALTH_SUBJECTS]): Promise<HealthView | { ready: false }> {
    try {
      return await rpc.send(subject, {}, this.config.HEALTH_TIMEOUT_MS);
    } catch {
      return { ready: false };
    }
  }
}

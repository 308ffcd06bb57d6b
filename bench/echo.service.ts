import 'reflect-metadata';
import { Controller, Get, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { MessagePattern, Payload, Transport } from '@nestjs/microservices';
import { ExpressAdapter } from '@nestjs/platform-express';
import { connect } from '@nats-io/transport-node';
import { StablePrototypeExpressAdapter } from '../apps/gateway/src/http/stable-prototype-adapter.js';

/**
 * The baselines of the benchmark: a Nest NATS echo handler (C1's anchor) and a bare Nest hello
 * route on the same HTTP adapter as the gateway (G1's anchor): Express, through the gateway's own
 * adapter class (BARE_ADAPTER=express: Nest's stock ExpressAdapter instead, for comparison).
 * Beside them, C1's floor: a plain nats.js subscription that answers every request on `bench.raw`
 * with the same fixed bytes, with no Nest and no parsing.
 */
@Controller()
class EchoController {
  @MessagePattern('bench.echo')
  echo(@Payload() payload: unknown): unknown {
    return payload;
  }

  @Get('hello')
  hello(): { hello: string } {
    return { hello: 'world' };
  }
}

@Module({ controllers: [EchoController] })
class EchoModule {}

const adapter = process.env.BARE_ADAPTER === 'express' ? new ExpressAdapter() : new StablePrototypeExpressAdapter();
const app = await NestFactory.create(EchoModule, adapter, { logger: false });
app.connectMicroservice({ transport: Transport.NATS, options: { servers: process.env.NATS_URL, queue: 'bench-echo' } });
await app.startAllMicroservices();
const raw = await connect({ servers: process.env.NATS_URL });
const fixedReply = Buffer.from(JSON.stringify({ isDisposed: true, id: '0', response: { allowed: true, reason: 'granted' } }));
raw.subscribe('bench.raw', {
  queue: 'bench-raw',
  callback: (error, message) => {
    if (!error) message.respond(fixedReply);
  },
});
await raw.flush();
await app.listen(Number(process.env.ECHO_HTTP_PORT), '127.0.0.1');
process.once('SIGTERM', () => void Promise.all([app.close(), raw.close()]).then(() => process.exit(0)));

import 'reflect-metadata';
import { jest } from '@jest/globals';
import { Controller, Get, Module, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import type { Express } from 'express';
import type { AddressInfo } from 'node:net';
import { request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { setFlagsFromString } from 'node:v8';
import { runInThisContext } from 'node:vm';
import { RelayedJson } from '#libs/platform/relayed-json.js';
import { eventually } from '#libs/testing/eventually.js';
import { StablePrototypeExpressAdapter } from './stable-prototype-adapter.js';

// V8's own test of an object's layout: false for a dictionary-mode ("slow") object. Natives
// syntax compiles only once the flag is set, so the function is compiled at run time.
setFlagsFromString('--allow-natives-syntax');
const hasFastProperties = runInThisContext('(object) => %HasFastProperties(object)') as (object: object) => boolean;

@Controller()
class HelloController {
  @Get('hello')
  hello(): { hello: string } {
    return { hello: 'world' };
  }

  /** The same answer, as a service's reply bytes relayed: a view into a larger buffer, as a NATS message's response is. */
  @Get('relayed')
  relayed(): RelayedJson<{ hello: string }> {
    const reply = Buffer.from('{"id":"1","response":{"hello":"world"}}');
    return new RelayedJson(reply.subarray(reply.indexOf('{"hello"'), reply.length - 1));
  }
}

@Module({ controllers: [HelloController] })
class HelloModule {}

/** Serves the hello route with `adapter`; reports, per request, whether Node created req and res with Express's prototypes. */
async function serve(adapter: ExpressAdapter) {
  const app: INestApplication = await NestFactory.create(HelloModule, adapter, { logger: false });
  await app.listen(0, '127.0.0.1');
  const server = app.getHttpServer() as Server;
  const express = adapter.getInstance<Express>();
  const bornExpress: boolean[] = [];
  const fastWhenAnswered: boolean[] = [];
  // Runs before Express sees the request, so it shows how Node made the objects.
  server.prependListener('request', (request: IncomingMessage, response: ServerResponse) => {
    bornExpress.push(Object.getPrototypeOf(request) === express.request && Object.getPrototypeOf(response) === express.response);
    response.once('finish', () => fastWhenAnswered.push(hasFastProperties(request) && hasFastProperties(response)));
  });
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  // node:http, not fetch: fetch adds headers of its own to a conditional request.
  const get = (path: string, method = 'GET', headers: Record<string, string> = {}) =>
    new Promise<{ status: number; headers: Record<string, unknown>; body: string }>((resolve, reject) => {
      request(`${base}${path}`, { method, headers }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          const kept = Object.entries(response.headers).filter(([name]) => !['date', 'keep-alive', 'connection'].includes(name));
          resolve({ status: response.statusCode ?? 0, headers: Object.fromEntries(kept), body: Buffer.concat(chunks).toString() });
        });
      })
        .on('error', reject)
        .end();
    });
  return { app, express, bornExpress, fastWhenAnswered, get };
}

/** Runs `check` against the hello app on the stock adapter and on the gateway's, closing both after. */
async function withBoth(check: (stock: Served, stable: Served) => Promise<void>): Promise<void> {
  const stock = await serve(new ExpressAdapter());
  const stable = await serve(new StablePrototypeExpressAdapter());
  try {
    await check(stock, stable);
  } finally {
    await stock.app.close();
    await stable.app.close();
  }
}

type Served = Awaited<ReturnType<typeof serve>>;

describe('StablePrototypeExpressAdapter', () => {
  it("has Node create requests and responses with Express's prototypes, so Express's per-request prototype swap does nothing", () =>
    withBoth(async (stock, stable) => {
      await stock.get('/hello');
      await stable.get('/hello');
      expect(stock.bornExpress).toEqual([false]);
      expect(stable.bornExpress).toEqual([true]);
    }));

  it('keeps requests and responses fast-mode objects through the whole request (a dictionary-mode object allocates on every write)', () =>
    withBoth(async (_stock, stable) => {
      // The probe tells a dictionary-mode object apart (deleting a property that is not the last one makes one).
      const slow: Record<string, number> = { a: 1, b: 2 };
      delete slow.a;
      expect(hasFastProperties({ a: 1, b: 2 })).toBe(true);
      expect(hasFastProperties(slow)).toBe(false);
      await stable.get('/hello');
      await stable.get('/relayed');
      // The server's 'finish' and the client's answer race in one process.
      await eventually('both answers finished', () => stable.fastWhenAnswered.length === 2, 1000, 10);
      expect(stable.fastWhenAnswered).toEqual([true, true]);
    }));

  it('answers exactly as the stock adapter does, for a route and for a missing one', () =>
    withBoth(async (stock, stable) => {
      for (const path of ['/hello', '/nothing-here']) expect(await stable.get(path)).toEqual(await stock.get(path));
    }));

  it('writes a relayed response as the bytes it holds, with the same status and headers as the stock adapter gives the object', () =>
    withBoth(async (stock, stable) => {
      const relayed = await stable.get('/relayed');
      expect(relayed.body).toBe('{"hello":"world"}');
      expect(relayed).toEqual(await stock.get('/hello'));
    }));

  it('writes it the same way when ETags are off (as in the gateway), past Express send unless a conditional request needs it', () =>
    withBoth(async (stock, stable) => {
      for (const served of [stock, stable]) served.express.set('etag', false);
      const send = jest.spyOn(stable.express.response, 'send');
      expect(await stable.get('/relayed')).toEqual(await stock.get('/hello'));
      expect(await stable.get('/relayed', 'HEAD')).toEqual(await stock.get('/hello', 'HEAD'));
      expect(send).not.toHaveBeenCalled();
      // Express's freshness check answers 304 to `If-None-Match: *`: the same answer, through send.
      const conditional = { 'if-none-match': '*' };
      const answer = await stable.get('/relayed', 'GET', conditional);
      expect(answer).toEqual(await stock.get('/hello', 'GET', conditional));
      expect(answer.status).toBe(304);
      expect(send).toHaveBeenCalledTimes(1);
    }));
});

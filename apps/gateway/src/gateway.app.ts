import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import express from 'express';
import helmet from 'helmet';
import { createValidationPipe, PinoNestLogger, type ProcessRuntime } from '#libs/platform/index.js';
import type { GatewayConfig } from './gateway.config.js';
import { GatewayModule } from './gateway.module.js';
import { expressErrorHandler, HttpErrorFilter } from './http/http-error.filter.js';
import { JSON_MEDIA_TYPES, markUnreadableBodies, noStore, refuseUnstorableInput } from './http/input-guard.js';
import { requestIdMiddleware } from './http/request-id.middleware.js';
import { StablePrototypeExpressAdapter } from './http/stable-prototype-adapter.js';
import { metricsMiddleware } from './operations/metrics.js';

/** Builds the gateway application (not yet listening): middleware, validation, errors, OpenAPI. */
export async function createGatewayApp(config: GatewayConfig, runtime: ProcessRuntime): Promise<INestApplication> {
  const app = await NestFactory.create<NestExpressApplication>(GatewayModule.forRoot(config, runtime), new StablePrototypeExpressAdapter(), {
    bodyParser: false,
    logger: new PinoNestLogger(runtime.logger),
  });
  app.set('trust proxy', config.TRUST_PROXY);
  app.disable('x-powered-by');
  // Answers are per caller and change with every write; a SHA-1 of each body buys no caching worth its CPU.
  app.set('etag', false);
  app.use(requestIdMiddleware(runtime.rpc), metricsMiddleware, helmet({ contentSecurityPolicy: false }), noStore);
  if (config.CORS_ORIGINS.length > 0)
    app.enableCors({ origin: config.CORS_ORIGINS.includes('*') ? true : config.CORS_ORIGINS, exposedHeaders: ['x-request-id'] });
  app.use(
    markUnreadableBodies,
    express.json({ limit: Number(config.BODY_LIMIT), strict: true, type: JSON_MEDIA_TYPES }),
    refuseUnstorableInput,
    expressErrorHandler(runtime.logger),
  );
  app.useGlobalPipes(createValidationPipe());
  app.useGlobalFilters(new HttpErrorFilter(runtime.logger));
  mountOpenApi(app);
  return app;
}

function mountOpenApi(app: INestApplication): void {
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Portico API')
      .setDescription('People and access for SaaS control panels: accounts, users, subusers, roles, sessions.')
      .setVersion('1')
      .addBearerAuth()
      // The document's sections in this order (not the order Express tries the routes in, see gateway.module.ts).
      .addTag('accounts')
      .addTag('auth')
      .addTag('me')
      .addTag('users')
      .addTag('subusers')
      .addTag('access')
      .addTag('audit')
      .addTag('deliveries')
      .addTag('operations')
      .build(),
  );
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'openapi.json', raw: ['json'] });
}

import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import express, { type Request } from 'express';
import helmet from 'helmet';
import { apiDescriptionInstalled } from '#libs/contracts/api-docs.js';
import { createValidationPipe, PinoNestLogger, type ProcessRuntime } from '#libs/platform/index.js';
import type { GatewayConfig } from './gateway.config.js';
import { GatewayModule } from './gateway.module.js';
import { expressErrorHandler, HttpErrorFilter } from './http/http-error.filter.js';
import { fixedHeadersMiddleware, headersSetBy, type FixedHeader } from './http/fixed-headers.js';
import { assertUtf8Body, isTokenForm, JSON_MEDIA_TYPES, markUnreadableBodies, refuseUnstorableInput } from './http/input-guard.js';
import { oneLayer } from './http/one-layer.js';
import { rememberingQueryParser } from './http/query-parser.js';
import { requestIdMiddleware } from './http/request-id.middleware.js';
import { StablePrototypeExpressAdapter } from './http/stable-prototype-adapter.js';
import { metricsMiddleware } from './operations/metrics.js';

/**
 * The headers of every answer: helmet's security headers (as helmet chooses them; no CSP, the API
 * serves no pages but its docs), and no-store, since every answer is for one caller and may hold
 * personal data or tokens (RFC 6749 5.1 for token answers).
 */
const ANSWER_HEADERS: FixedHeader[] = [...headersSetBy(helmet({ contentSecurityPolicy: false })), ['Cache-Control', 'no-store']];

/** Builds the gateway application (not yet listening): middleware, validation, errors, OpenAPI. */
export async function createGatewayApp(config: GatewayConfig, runtime: ProcessRuntime): Promise<INestApplication> {
  if (!apiDescriptionInstalled())
    throw new Error('The contracts are not described for /openapi.json: import ./openapi/api-description.js first (libs/contracts/api-docs.ts)');
  const app = await NestFactory.create<NestExpressApplication>(GatewayModule.forRoot(config, runtime), new StablePrototypeExpressAdapter(), {
    bodyParser: false,
    logger: new PinoNestLogger(runtime.logger),
  });
  app.set('trust proxy', config.TRUST_PROXY);
  app.disable('x-powered-by');
  // Answers are per caller and change with every write; a SHA-1 of each body buys no caching worth its CPU.
  app.set('etag', false);
  app.set('query parser', rememberingQueryParser());
  app.use(oneLayer(requestIdMiddleware(runtime.rpc), metricsMiddleware, fixedHeadersMiddleware(ANSWER_HEADERS)));
  if (config.CORS_ORIGINS.length > 0)
    app.enableCors({ origin: config.CORS_ORIGINS.includes('*') ? true : config.CORS_ORIGINS, exposedHeaders: ['x-request-id'] });
  app.use(
    oneLayer(
      markUnreadableBodies,
      express.json({ limit: Number(config.BODY_LIMIT), strict: true, type: JSON_MEDIA_TYPES, verify: assertUtf8Body }),
      express.urlencoded({
        limit: Number(config.BODY_LIMIT),
        extended: false,
        parameterLimit: 20,
        type: (request) => isTokenForm(request as Request),
        verify: assertUtf8Body,
      }),
      refuseUnstorableInput,
    ),
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
      .setDescription('People and access for SaaS control panels: accounts, users, subusers, service accounts, roles, sessions.')
      .setVersion('1')
      .addBearerAuth()
      // The document's sections in this order (not the order Express tries the routes in, see gateway.module.ts).
      .addTag('accounts')
      .addTag('auth')
      .addTag('me')
      .addTag('users')
      .addTag('subusers')
      .addTag('service-accounts')
      .addTag('access')
      .addTag('audit')
      .addTag('deliveries')
      .addTag('operations')
      .build(),
  );
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'openapi.json', raw: ['json'] });
}

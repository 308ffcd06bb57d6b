import { ValidationPipe, type ArgumentMetadata, type ValidationError, type ValidationPipeOptions } from '@nestjs/common';
import { getMetadataStorage } from 'class-validator';
import { ErrorCode, DomainError } from '#libs/errors/index.js';
import { boundedFieldPath, boundedFields, boundedProblems } from './error-bounds.js';

/**
 * One readable line per problem: `owner.phone must be in international format`. A required field
 * that is missing is one line, `password is required`, rather than each rule it fails (an optional
 * one is not validated when missing, so every error of a missing value means it is required).
 */
export function describeValidationErrors(errors: ValidationError[], parent = ''): string[] {
  return errors.flatMap((error) => {
    const path = boundedFieldPath(parent ? `${parent}.${error.property}` : error.property);
    const missing = error.value === undefined && 'value' in error && error.constraints !== undefined;
    const own = missing ? [`${path} is required`] : Object.values(error.constraints ?? {}).map((message) => renameField(message, error.property, path));
    return [...own, ...describeValidationErrors(error.children ?? [], path)];
  });
}

/** The paths of the broken fields, each once, in order: `['owner.phone', 'role']`. */
export function brokenFields(errors: ValidationError[], parent = ''): string[] {
  const paths = errors.flatMap((error): string[] => {
    const path = boundedFieldPath(parent ? `${parent}.${error.property}` : error.property);
    return [...(error.constraints ? [path] : []), ...brokenFields(error.children ?? [], path)];
  });
  return [...new Set(paths)];
}

/**
 * The 400 of a validation that failed: one readable line per problem (`problems`), and the broken
 * fields for a program to mark in its form (`fields`, and `field`, the first, as the services'
 * own refusals name theirs).
 */
export function validationFailure(errors: ValidationError[]): DomainError {
  const problems = boundedProblems(describeValidationErrors(errors));
  const fields = boundedFields(brokenFields(errors));
  return new DomainError(ErrorCode.ValidationFailed, problems.join('; ') || 'Invalid input', {
    problems,
    ...(fields.length > 0 && { field: fields[0], fields }),
  });
}

function renameField(message: string, property: string, path: string): string {
  if (message.startsWith('property ')) return message.replace(`property ${property}`, `field ${path}`);
  return message.startsWith(property) ? path + message.slice(property.length) : `${path}: ${message}`;
}

/**
 * Validates every body and payload against its class: unknown fields and wrong types are refused,
 * naming the field. Accepted query strings are remembered ({@link QueryRememberingValidationPipe}):
 * a query class must validate and transform the same query the same way every time.
 */
export function createValidationPipe(): ValidationPipe {
  rememberValidationMetadata();
  return new QueryRememberingValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    forbidUnknownValues: true,
    // The value tells a missing field apart (describeValidationErrors); it is never echoed.
    validationError: { target: false, value: true },
    exceptionFactory: validationFailure,
  });
}

/** A value of a query field that can be copied by assignment. */
type Scalar = string | number | boolean | null | undefined;

/**
 * The validation pipe, remembering the query strings it has accepted. A panel asks for the same
 * GETs over and over (its menus' permissions on every page, the first page of a table), and
 * class-transformer and class-validator take ~10 us of such a request in the gateway; a
 * remembered query ~1 us.
 *
 * A query seen before (same class, same fields and values, each a single string, at most
 * `maxKeyLength` characters of JSON) gets a new instance with the values its first validation
 * produced, when those were all scalars. Anything else, and every refusal, goes through the whole
 * validation. At most `maxPerClass` queries are remembered per class; past that the class starts
 * afresh.
 *
 * This holds only for query classes whose validation is a pure function of the query: no
 * `@Transform` reading the clock or config, no validator asking a database, no field initialised
 * per instance. Every query class in libs/contracts is so (see PageQuery); a class that is not
 * needs a pipe of its own on its parameter.
 */
export class QueryRememberingValidationPipe extends ValidationPipe {
  private readonly accepted = new WeakMap<object, Map<string, Record<string, Scalar>>>();

  constructor(
    options: ValidationPipeOptions,
    private readonly maxPerClass = 1000,
    private readonly maxKeyLength = 1024,
  ) {
    super(options);
  }

  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    const { type, metatype } = metadata;
    if (type !== 'query' || typeof metatype !== 'function' || !hasOnlyStrings(value)) return super.transform(value, metadata);
    const key = JSON.stringify(value);
    // A long query (a padded number, say) is validated in full rather than kept: memory stays small.
    if (key.length > this.maxKeyLength) return super.transform(value, metadata);
    const known = this.accepted.get(metatype)?.get(key);
    if (known) return Object.assign(new (metatype as new () => object)(), known);
    const result: unknown = await super.transform(value, metadata);
    if (result instanceof metatype && hasOnlyScalars(result)) this.remember(metatype, key, { ...result });
    return result;
  }

  private remember(metatype: object, key: string, values: Record<string, Scalar>): void {
    let ofClass = this.accepted.get(metatype);
    if (!ofClass || ofClass.size >= this.maxPerClass) this.accepted.set(metatype, (ofClass = new Map<string, Record<string, Scalar>>()));
    ofClass.set(key, values);
  }
}

/** Whether `value` is a query as parsed (each field one string), so that its JSON tells it apart from any other. */
function hasOnlyStrings(value: unknown): value is Record<string, string> {
  return everyField(value, (field) => typeof field === 'string');
}

/** Whether `value` is an object whose fields are all scalars (what a copy by assignment keeps whole). */
function hasOnlyScalars(value: unknown): value is Record<string, Scalar> {
  return everyField(value, (field) => field === null || ['string', 'number', 'boolean', 'undefined'].includes(typeof field));
}

/** Whether `value` is a non-array object whose every field passes `test`. */
function everyField(value: unknown, test: (field: unknown) => boolean): boolean {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  for (const key in value) if (!test((value as Record<string, unknown>)[key])) return false;
  return true;
}

type MetadataStorage = ReturnType<typeof getMetadataStorage>;
const REMEMBERING = Symbol.for('portico.rememberValidationMetadata');

/**
 * class-validator works out a class's rules again on every validation (filtering the rules of
 * every class, with an instanceof per class: ~10 % of a small request's CPU in the gateway),
 * although they only change while classes are being defined. This remembers them per class and
 * options, and forgets everything whenever a decorator adds a rule. Applied once per process.
 */
export function rememberValidationMetadata(storage: MetadataStorage = getMetadataStorage()): void {
  const patched = storage as MetadataStorage & { [REMEMBERING]?: true };
  if (patched[REMEMBERING]) return;
  patched[REMEMBERING] = true;
  const compute = storage.getTargetValidationMetadatas.bind(storage);
  const add = storage.addValidationMetadata.bind(storage);
  type Rules = ReturnType<MetadataStorage['getTargetValidationMetadatas']>;
  let known = new Map<unknown, Map<string, Rules>>();
  storage.addValidationMetadata = (metadata) => {
    known = new Map();
    add(metadata);
  };
  storage.getTargetValidationMetadatas = (target, schema, always, strictGroups, groups) => {
    const options = JSON.stringify([schema, always, strictGroups, groups ?? null]);
    let ofTarget = known.get(target);
    if (!ofTarget) known.set(target, (ofTarget = new Map<string, Rules>()));
    let rules = ofTarget.get(options);
    if (!rules) ofTarget.set(options, (rules = compute(target, schema, always, strictGroups, groups)));
    return rules;
  };
}

/**
 * Malformed requests derived from an OpenAPI description, for the fuzz run of L3
 * (test/openapi-fuzz.e2e-spec.ts). Deterministic: the same description gives the same probes.
 */

/** The parts of an OpenAPI 3 schema the probes read. */
export interface Schema {
  $ref?: string;
  type?: string;
  format?: string;
  enum?: unknown[];
  example?: unknown;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  nullable?: boolean;
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
}

/** One operation's parameter. */
export interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required?: boolean;
  schema?: Schema;
}

/** One operation of the description. */
export interface Operation {
  parameters?: Parameter[];
  requestBody?: { content: Record<string, { schema: Schema }> };
  security?: unknown[];
}

/** The description as the gateway serves it at /openapi.json. */
export interface OpenApiDocument {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema> };
}

/** Every operation of `document` as `METHOD /path`, with its description. */
export function operationsOf(document: OpenApiDocument): Array<{ name: string; method: string; path: string; operation: Operation }> {
  return Object.entries(document.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, operation]) => ({ name: `${method.toUpperCase()} ${path}`, method: method.toUpperCase(), path, operation })),
  );
}

/**
 * What an answer to a probe must be: `refused` is a 4xx (the input is wrong by the description);
 * `either` any answer below 500 (the input may be legitimately fine, e.g. an id in capitals).
 */
export type Verdict = 'refused' | 'either';

/** One request to send. */
export interface Probe {
  operation: string;
  mutation: string;
  method: string;
  /** Path and query, ready to append to the gateway's base URL. */
  url: string;
  /** Whether to send the caller's bearer token. */
  authenticated: boolean;
  contentType?: string;
  body?: string | Uint8Array;
  verdict: Verdict;
  /** A VALIDATION_FAILED answer must name this field in its message. */
  field?: string;
  /**
   * Whether a 4xx must carry the gateway's error body. Node's HTTP parser answers a request whose
   * head is too large (431) before any of the application runs, with no body at all.
   */
  errorBody: boolean;
}

/** What the probes need besides the description: an id of a real object for every path parameter, and the body limit. */
export interface FuzzContext {
  document: OpenApiDocument;
  ids: Record<string, string>;
  bodyLimit: number;
}

/** A UUID that names nothing (fixed: the run is the same every time). */
export const NO_SUCH_ID = '7f3c1e2a-9b4d-4c8e-a1f0-5d6e7b8c9a01';

/** Longer than any field of the API may be, and well under the body limit. */
export const HUGE_LENGTH = 100_000;

/** Longer than any query value may be, and under the 16 KB Node allows a request head. */
const HUGE_QUERY_LENGTH = 8_000;

/** Every probe for every operation of the description, but those in `skipped`. */
export function probesFor(context: FuzzContext, skipped: ReadonlySet<string>): Probe[] {
  return operationsOf(context.document)
    .filter(({ name }) => !skipped.has(name))
    .flatMap(({ name, method, path, operation }) => new OperationProbes(context, name, method, path, operation).all());
}

class OperationProbes {
  private readonly bodySchema: Schema | undefined;
  private readonly queryParams: Parameter[];
  private readonly pathParams: Parameter[];

  constructor(
    private readonly context: FuzzContext,
    private readonly name: string,
    private readonly method: string,
    private readonly path: string,
    private readonly operation: Operation,
  ) {
    const schema = operation.requestBody?.content['application/json']?.schema;
    this.bodySchema = schema && this.resolve(schema);
    this.queryParams = (operation.parameters ?? []).filter((parameter) => parameter.in === 'query');
    this.pathParams = (operation.parameters ?? []).filter((parameter) => parameter.in === 'path');
  }

  all(): Probe[] {
    return [...this.withoutToken(), ...this.bodyProbes(), ...this.pathProbes(), ...this.queryProbes()];
  }

  /** The request with every input valid but nothing sent to what it leaves out (a fresh copy). */
  private probe(mutation: string, verdict: Verdict, changes: Partial<Probe> = {}): Probe {
    return {
      operation: this.name,
      mutation,
      method: this.method,
      url: this.urlWith(),
      authenticated: true,
      ...(this.bodySchema && { contentType: 'application/json', body: JSON.stringify(this.validValue(this.bodySchema)) }),
      verdict,
      errorBody: true,
      ...changes,
    };
  }

  private withoutToken(): Probe[] {
    const secured = (this.operation.security ?? []).length > 0;
    const probes = [this.probe('no token, valid input', secured ? 'refused' : 'either', { authenticated: false })];
    if (this.bodySchema) {
      probes.push(this.probe('no token, bad JSON', 'refused', { authenticated: false, body: '{"fuzz":' }));
    }
    return probes;
  }

  // --- bodies ---------------------------------------------------------------------------------

  private bodyProbes(): Probe[] {
    if (!this.bodySchema) return [];
    return [...this.wholeBodyProbes(this.bodySchema), ...this.objectProbes(this.bodySchema, '', (inner) => inner)];
  }

  private wholeBodyProbes(schema: Schema): Probe[] {
    const valid = JSON.stringify(this.validValue(schema));
    const hasRequired = (schema.required ?? []).length > 0;
    const limit = this.context.bodyLimit;
    return [
      this.probe('body labelled text/plain', 'refused', { contentType: 'text/plain' }),
      this.probe('body with no content type', 'refused', { contentType: undefined, body: Buffer.from(valid) }),
      this.probe('body in a charset other than UTF-8', 'refused', { contentType: 'application/json; charset=utf-16' }),
      this.probe('bad JSON (cut short)', 'refused', { body: valid.slice(0, -1) }),
      this.probe('bad JSON (single quotes)', 'refused', { body: "{'fuzz': 1}" }),
      this.probe('bad JSON (trailing comma)', 'refused', { body: valid.replace(/}$/, ',}') }),
      this.probe('empty body labelled JSON', hasRequired ? 'refused' : 'either', { body: '' }),
      this.probe('a JSON array as the body', 'refused', { body: `[${valid}]` }),
      this.probe('a JSON string as the body', 'refused', { body: '"fuzz"' }),
      this.probe('a JSON number as the body', 'refused', { body: '42' }),
      this.probe('JSON null as the body', 'refused', { body: 'null' }),
      this.probe('JSON true as the body', 'refused', { body: 'true' }),
      this.probe('an empty object', hasRequired ? 'refused' : 'either', { body: '{}' }),
      this.probe('a body one byte over the limit', 'refused', { body: padded(valid, limit + 1) }),
    ];
  }

  /**
   * Probes for every field of an object schema at `prefix` (dotted, as the validation pipe names
   * fields), each sent inside the body `wrap` builds around the object.
   */
  private objectProbes(schema: Schema, prefix: string, wrap: (inner: unknown) => unknown): Probe[] {
    const valid = this.validValue(schema) as Record<string, unknown>;
    const at = (key: string) => (prefix ? `${prefix}.${key}` : key);
    const send = (mutation: string, inner: unknown, field?: string): Probe =>
      this.probe(mutation, 'refused', { body: JSON.stringify(wrap(inner)), ...(field && { field }) });
    const probes = [
      send(`unknown field at ${prefix || 'the top'}`, { ...valid, fuzzUnknownField: 'x' }, at('fuzzUnknownField')),
      send(`a "__proto__" field at ${prefix || 'the top'}`, { ...valid, ...PROTO_FIELD }),
      // Named as a member of every object: class-transformer would drop it unseen.
      send(`a "toString" field at ${prefix || 'the top'}`, { ...valid, toString: 1 }, at('toString')),
      ...(schema.required ?? []).map((key) => send(`missing required ${at(key)}`, withoutKey(valid, key), at(key))),
    ];
    for (const [key, raw] of Object.entries(schema.properties ?? {})) {
      const property = this.resolve(raw);
      const field = at(key);
      const replace = (value: unknown) => wrap({ ...valid, [key]: value });
      probes.push(...this.valueProbes(property, field, replace));
      if (property.type === 'object' && property.properties) probes.push(...this.objectProbes(property, field, replace));
      if (property.type === 'array' && property.items) probes.push(...this.itemProbes(this.resolve(property.items), field, replace));
    }
    return probes;
  }

  /** Probes for the first item of an array field. */
  private itemProbes(items: Schema, field: string, replace: (value: unknown) => unknown): Probe[] {
    const wrapItem = (item: unknown) => replace([item]);
    if (items.type === 'object' && items.properties) {
      return [...this.valueProbes(items, `${field}.0`, wrapItem, field), ...this.objectProbes(items, `${field}.0`, wrapItem)];
    }
    return this.valueProbes(items, `${field}.0`, wrapItem, field);
  }

  /** Wrong values for one field: every wrong type, a wrong form, huge text, text at the limit, bad unicode. */
  private valueProbes(schema: Schema, field: string, body: (value: unknown) => unknown, named = field): Probe[] {
    const send = (mutation: string, value: unknown) => this.probe(`${field} = ${mutation}`, 'refused', { body: JSON.stringify(body(value)), field: named });
    const probes = wrongTypes(schema).map(([label, value]) => send(label, value));
    const form = wrongForm(schema);
    if (form) probes.push(send(form[0], form[1]));
    if (schema.type !== 'string') return probes;
    const marker = 'FUZZ_AT_THE_LIMIT';
    const sized = JSON.stringify(body(marker));
    probes.push(
      send(`${HUGE_LENGTH.toLocaleString('en')} characters`, 'x'.repeat(HUGE_LENGTH)),
      this.probe(`${field} = text filling the body to the limit`, 'refused', {
        body: sized.replace(marker, 'x'.repeat(this.context.bodyLimit - Buffer.byteLength(sized) + marker.length)),
        field: named,
      }),
      this.probe(`${field} = a lone surrogate (\\ud800)`, 'refused', { body: JSON.stringify(body('fuzz\ud800fuzz')), field: named }),
      this.probe(`${field} = a lone low surrogate (\\udc00)`, 'refused', { body: JSON.stringify(body('\udc00')), field: named }),
      send('a NUL character', 'fuzz\u0000fuzz'),
      // Refused before the body is read into fields, so the answer names the encoding, not the field.
      this.probe(`${field} = bytes that are not UTF-8`, 'refused', { body: withBytes(JSON.stringify(body(marker)), marker, NOT_UTF8) }),
    );
    return probes;
  }

  // --- path and query ---------------------------------------------------------------------------

  private pathProbes(): Probe[] {
    return this.pathParams.flatMap(({ name }) => {
      const id = this.idFor(name);
      const at = (value: string) => this.urlWith({ [name]: value });
      return [
        this.probe(`${name} not a UUID`, 'refused', { url: at('not-a-uuid') }),
        this.probe(`${name} a UUID that names nothing`, 'refused', { url: at(NO_SUCH_ID) }),
        this.probe(`${name} a UUID without dashes`, 'refused', { url: at(id.replaceAll('-', '')) }),
        this.probe(`${name} with a NUL (%00)`, 'refused', { url: at(`${id}%00`) }),
        this.probe(`${name} 5,000 characters`, 'refused', { url: at('a'.repeat(5_000)) }),
        this.probe(`${name} badly percent-encoded`, 'refused', { url: at('%E0%A4%A') }),
        // The same object: ids are compared without case (IdParam lower-cases them).
        this.probe(`${name} in capitals`, 'either', { url: at(id.toUpperCase()) }),
      ];
    });
  }

  private queryProbes(): Probe[] {
    const query = (text: string) => `${this.urlWith()}?${text}`;
    const probes: Probe[] = [
      // A route that reads no query ignores one (as it does a header it does not know): nothing is misread.
      this.queryParams.length > 0
        ? this.probe('an unknown query parameter', 'refused', { url: query('fuzzUnknown=1'), field: 'fuzzUnknown' })
        : this.probe('an unknown query parameter', 'either', { url: query('fuzzUnknown=1') }),
      this.probe('a query parameter named __proto__', this.queryParams.length > 0 ? 'refused' : 'either', { url: query('__proto__=1') }),
      this.probe('a query parameter named constructor', this.queryParams.length > 0 ? 'refused' : 'either', { url: query('constructor=1') }),
      this.probe(`a query string over the 16 KB a request head may hold (431)`, 'refused', { url: query(`fuzz=${'x'.repeat(20_000)}`), errorBody: false }),
    ];
    for (const parameter of this.queryParams) {
      const schema = this.resolve(parameter.schema ?? { type: 'string' });
      const send = (mutation: string, text: string, verdict: Verdict = 'refused') =>
        this.probe(`?${parameter.name} ${mutation}`, verdict, { url: query(text), field: parameter.name });
      const valid = encodeURIComponent(String(this.validValue(schema)));
      const named = `${parameter.name}=`;
      probes.push(
        send('repeated', `${named}${valid}&${named}${valid}`),
        send('as a list (name[])', `${parameter.name}[]=${valid}`),
        send('empty', named, schema.type === 'string' && !schema.format && !schema.enum && !schema.minLength ? 'either' : 'refused'),
        send(`${HUGE_QUERY_LENGTH.toLocaleString('en')} characters`, `${named}${'x'.repeat(HUGE_QUERY_LENGTH)}`),
        send('with a NUL (%00)', `${named}fuzz%00`),
        send('badly percent-encoded', `${named}%E0%A4%A`, this.acceptsAnyText(schema) ? 'either' : 'refused'),
        ...queryWrongForms(schema).map(([label, text]) => send(label, `${named}${text}`)),
      );
    }
    return probes;
  }

  /** Whether a query field takes free text (a search): any short text, even replacement characters, may be fine. */
  private acceptsAnyText(schema: Schema): boolean {
    return schema.type === 'string' && !schema.format && !schema.enum && !schema.pattern;
  }

  private urlWith(overrides: Record<string, string> = {}): string {
    return this.path.replace(/\{([^}]+)\}/g, (_all, name: string) => overrides[name] ?? this.idFor(name));
  }

  private idFor(name: string): string {
    const id = this.context.ids[name];
    if (!id) throw new Error(`No fixture for the path parameter ${name} of ${this.name}: create one in the fuzz test's fixtures`);
    return id;
  }

  // --- schemas ----------------------------------------------------------------------------------

  private resolve(schema: Schema): Schema {
    if (!schema.$ref) return schema;
    const name = schema.$ref.replace('#/components/schemas/', '');
    const target = this.context.document.components.schemas[name];
    if (!target) throw new Error(`${this.name}: unknown schema ${schema.$ref}`);
    return target;
  }

  /**
   * A value the schema accepts: of an object, the required fields and those with an example (a
   * rule the description cannot state, such as "grants or from", is met by the examples).
   */
  validValue(raw: Schema, key = ''): unknown {
    const schema = this.resolve(raw);
    if (schema.enum) return schema.enum[0];
    if (schema.example !== undefined && schema.type !== 'object') return schema.example;
    switch (schema.type ?? 'string') {
      case 'object':
        return Object.fromEntries(
          Object.entries(schema.properties ?? {})
            .filter(([name, property]) => schema.required?.includes(name) || this.resolve(property).example !== undefined)
            .map(([name, property]) => [name, this.validValue(property, name)]),
        );
      case 'array':
        return schema.items ? [this.validValue(schema.items, key)] : [];
      case 'number':
      case 'integer':
        return schema.minimum ?? 1;
      case 'boolean':
        return true;
      default:
        return validText(schema, key);
    }
  }
}

/** Text of the schema's form; a password-looking field gets one long enough and wrong. */
function validText(schema: Schema, key: string): string {
  if (schema.format === 'uuid') return NO_SUCH_ID;
  if (schema.format === 'date-time') return '2026-01-01T00:00:00.000Z';
  if (/password/i.test(key)) return 'not the password of anybody';
  return 'fuzz'.padEnd(schema.minLength ?? 0, 'z');
}

const SAMPLES: Array<[string, string, unknown]> = [
  ['string', 'a string', 'fuzz'],
  ['number', 'a number', 12345],
  ['boolean', 'a boolean', true],
  ['null', 'null', null],
  ['array', 'an array', ['fuzz']],
  ['object', 'an object', { fuzz: 1 }],
];

/** A value of every JSON type the schema does not allow. */
function wrongTypes(schema: Schema): Array<[string, unknown]> {
  const own = schema.type === 'integer' ? 'number' : schema.type;
  return SAMPLES.filter(([type]) => type !== own && !(type === 'null' && schema.nullable)).map(([, label, value]) => [label, value]);
}

/** A value of the right type but the wrong form, when the schema has a form. */
function wrongForm(schema: Schema): [string, unknown] | undefined {
  if (schema.enum) return ['a value not in the enum', 'fuzz-not-listed'];
  if (schema.format === 'uuid') return ['not a UUID', 'not-a-uuid'];
  if (schema.format === 'date-time') return ['not a date-time', 'yesterday'];
  if (schema.pattern) return ['not matching its pattern', 'Not Matching!'];
  if (schema.type === 'integer') return ['a fraction', 1.5];
  return undefined;
}

/** Query texts (as they go into the URL) of the wrong form for the parameter's schema. */
function queryWrongForms(schema: Schema): Array<[string, string]> {
  if (schema.enum) return [['not in the enum', 'fuzz-not-listed']];
  if (schema.format === 'uuid') return [['not a UUID', 'not-a-uuid']];
  if (schema.format === 'date-time')
    return [
      ['not a date-time', 'yesterday'],
      ['an impossible date', '2026-02-30T25:61:00Z'],
    ];
  if (schema.type === 'number' || schema.type === 'integer') {
    return [
      ['a word', 'abc'],
      ['a fraction', '1.5'],
      ['negative', '-1'],
      ['zero', '0'],
      ['above the maximum', String((schema.maximum ?? 1e9) + 1)],
      ['beyond a double', '1e400'],
      ['NaN', 'NaN'],
      // Forms Number() reads as a number in range: a query number is decimal digits only.
      ['in hexadecimal', '0x10'],
      ['with an exponent', '1e1'],
      ['with a leading space', '%205'],
      ['with a trailing space', '5%20'],
      ['with a plus sign', '%2B5'],
      ['with a decimal point', '5.0'],
    ];
  }
  return [];
}

/** `object` without `key`. */
function withoutKey(object: Record<string, unknown>, key: string): Record<string, unknown> {
  return Object.fromEntries(Object.entries(object).filter(([name]) => name !== key));
}

/** An own field named `__proto__`, as JSON.parse makes one (a literal would set the prototype instead). */
const PROTO_FIELD = JSON.parse('{"__proto__":{"isAdmin":true}}') as Record<string, unknown>;

/** An invalid UTF-8 sequence: a lead byte without its continuation, and two bytes UTF-8 never uses. */
const NOT_UTF8 = Buffer.from([0xc3, 0x28, 0xff, 0xfe]);

/** The bytes of `json` with `marker` replaced by `bytes`. */
function withBytes(json: string, marker: string, bytes: Uint8Array): Uint8Array {
  const at = json.indexOf(marker);
  return Buffer.concat([Buffer.from(json.slice(0, at)), bytes, Buffer.from(json.slice(at + marker.length))]);
}

/** `json` (an object's JSON) grown by an extra field to exactly `bytes` bytes. */
function padded(json: string, bytes: number): string {
  const head = `${json.slice(0, -1)}${json.length > 2 ? ',' : ''}"fuzzPadding":"`;
  return `${head}${'x'.repeat(bytes - Buffer.byteLength(head) - 2)}"}`;
}

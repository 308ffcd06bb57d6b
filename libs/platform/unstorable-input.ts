import type { ArgumentMetadata, PipeTransform } from '@nestjs/common';
import { DomainError, ErrorCode } from '#libs/errors/index.js';
import { boundedFieldPath } from './error-bounds.js';

/** How deep an input may nest: far beyond any request of the API, far below what exhausts the stack of the validators. */
export const MAX_INPUT_DEPTH = 32;

/** A field name no object of the API has, and that the validation pipe would pass over rather than refuse. */
const PROTO_FIELD = '__proto__';

/**
 * The field names the validation pipe would pass over rather than refuse as unknown: `__proto__`,
 * and the names of Object.prototype's other members (`toString`, `constructor`, ...) and
 * `prototype`, which class-transformer drops without a word (the instance it builds already has a
 * function under that name). No object of the API has such a field.
 */
export const INHERITED_FIELD_NAMES: readonly string[] = [...Object.getOwnPropertyNames(Object.prototype), 'prototype'];
const INHERITED_NAMES: ReadonlySet<string> = new Set(INHERITED_FIELD_NAMES);

/** What the validation pipe says of a field no object has. */
const UNKNOWN_FIELD = 'should not exist';

/** A field (dotted path, as the validation pipe names it) and what is wrong with it. */
export interface InputProblem {
  field: string;
  message: string;
}

/**
 * The first part of `value` (a parsed body or NATS payload) that no field of the API may hold, or
 * undefined: text with a NUL character (PostgreSQL cannot store it), text with a lone surrogate (not
 * Unicode: a JSON column refuses it, a text column would keep U+FFFD instead), a field named
 * `__proto__`, `toString`, `constructor` or as another member of Object.prototype (which the
 * validation would drop unseen rather than refuse as unknown), nesting deeper
 * than {@link MAX_INPUT_DEPTH} levels. `root` names the whole value. The one copy of these rules:
 * the gateway's input guard and every service's NATS server apply it.
 */
export function unstorableInputProblem(value: unknown, root = 'body'): InputProblem | undefined {
  if (typeof value === 'string') {
    const message = textProblem(value);
    return message ? { field: root, message } : undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const found = problemWithin(value, 0);
  if (!found) return undefined;
  return { field: found.keys.length > 0 ? found.keys.reverse().join('.') : root, message: found.message };
}

/** A problem found inside an object: the keys leading to it, innermost first, and the message. */
interface Found {
  keys: string[];
  message: string;
}

/**
 * The first problem inside `object`, at `depth`. Recursive, but never deeper than
 * {@link MAX_INPUT_DEPTH} calls, so a deep value cannot exhaust the stack; builds no path unless it
 * finds a problem (the walk costs ~40 ns a field: it runs on access.check too).
 */
function problemWithin(object: object, depth: number): Found | undefined {
  if (depth >= MAX_INPUT_DEPTH) return { keys: [], message: `nests deeper than ${MAX_INPUT_DEPTH} levels` };
  for (const key in object) {
    if (textProblem(key)) return { keys: [], message: 'holds a field name with a NUL character or a lone surrogate' };
    if (INHERITED_NAMES.has(key)) return { keys: [key], message: UNKNOWN_FIELD };
    const inner = (object as Record<string, unknown>)[key];
    let found: Found | undefined;
    if (typeof inner === 'string') {
      const message = textProblem(inner);
      if (message) found = { keys: [], message };
    } else if (typeof inner === 'object' && inner !== null) {
      found = problemWithin(inner, depth + 1);
    }
    if (found) {
      found.keys.push(key);
      return found;
    }
  }
  return undefined;
}

/** A high surrogate not followed by a low one, or a low one not preceded by a high one (String#isWellFormed, before ES2024). */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Whether `text` holds a lone surrogate: it is not Unicode text (`encodeURIComponent` throws on it, UTF-8 has no form for it). */
export function hasLoneSurrogate(text: string): boolean {
  return LONE_SURROGATE.test(text);
}

/** A NUL character or any surrogate, paired or not. */
const SUSPECT = /[\u0000\uD800-\uDFFF]/;

/** What is wrong with a text no field may hold (a NUL character, a lone surrogate), if anything. */
function textProblem(text: string): string | undefined {
  // One pass for the common case: no NUL and no surrogate at all.
  if (!SUSPECT.test(text)) return undefined;
  if (text.includes('\u0000')) return 'must not contain a NUL character';
  if (hasLoneSurrogate(text)) return 'must be valid Unicode text (it holds a lone surrogate)';
  return undefined;
}

/** The 400 VALIDATION_FAILED for a problem: `field: message`, the field also in the details. */
export function unstorableInputError({ field, message }: InputProblem): DomainError {
  const named = boundedFieldPath(field);
  return new DomainError(ErrorCode.ValidationFailed, `${named}: ${message}`, { field: named });
}

/**
 * Whether JSON text decoded from UTF-8 could, once parsed, hold what
 * {@link unstorableInputProblem} refuses, short of nesting: a NUL or a lone surrogate can only be
 * written as a `\u` escape (JSON.parse refuses raw control characters, and text decoded from UTF-8
 * has no lone surrogate), and a field named `__proto__` only so or literally. ~50 ns for an
 * access.check, where walking the parsed value costs ~250 ns: the direct handlers' gate. Fields
 * named `toString` and the like pass it: they are the validation pipe's blind spot, and a direct
 * handler's parser refuses every field it does not take.
 */
export function mayHoldUnstorableInput(json: string): boolean {
  return json.includes('\\u') || json.includes(PROTO_FIELD);
}

/** Throws the 400 of {@link unstorableInputError} when `payload` holds what no field may hold. */
export function assertStorablePayload(payload: unknown): void {
  const problem = unstorableInputProblem(payload, 'payload');
  if (problem) throw unstorableInputError(problem);
}

/**
 * A service's first pipe on every NATS payload (`@Payload()`), before the validation pipe: the
 * gateway refuses such input over HTTP, but it is not a service's only caller.
 */
export class StorablePayloadPipe implements PipeTransform {
  transform(value: unknown, metadata: ArgumentMetadata): unknown {
    if (metadata.type === 'body') assertStorablePayload(value);
    return value;
  }
}

import { NatsRecord, type Serializer } from '@nestjs/microservices';
import { NatsRecordSerializer } from '@nestjs/microservices/serializers/nats-record.serializer.js';

/**
 * How the services lay out a successful reply: Nest's reply packet, with `response` written
 * last — `{"isDisposed":true,"id":"…","response":…}` — so a relay (the gateway) can take the
 * response's bytes as they are, without parsing and writing them again. Still Nest's wire format:
 * any Nest client reads it. Errors keep Nest's own layout.
 */
const PREFIX = '{"isDisposed":true,"id":';
const RESPONSE_KEY = ',"response":';
const PREFIX_BYTES = Buffer.from(PREFIX);
const RESPONSE_KEY_BYTES = Buffer.from(RESPONSE_KEY);
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const CLOSING_BRACE = 0x7d;

/**
 * A response already written as JSON (an answer remembered as text): a reply carries the text as
 * it is instead of serializing the value again. Any other serializer (JSON.stringify) writes the
 * same JSON.
 */
export class PreEncodedJson {
  constructor(readonly json: string) {}

  /** The value the text stands for, for serializers other than {@link encodeReply}. */
  toJSON(): unknown {
    return JSON.parse(this.json);
  }
}

/** The text of a successful reply to the request `id`, in the layout above. */
export function encodeReply(id: string | number, response: unknown): string {
  const json = response instanceof PreEncodedJson ? response.json : JSON.stringify(response);
  return json === undefined ? `${PREFIX}${JSON.stringify(id)}}` : `${PREFIX}${JSON.stringify(id)}${RESPONSE_KEY}${json}}`;
}

/**
 * The bytes of the `response` of a reply in the layout above, or undefined for any other reply
 * (an error, a reply from another writer): read it as JSON then. The bytes are a view of `data`.
 */
export function responseBytesOf(data: Uint8Array): Uint8Array | undefined {
  if (data.length <= PREFIX_BYTES.length + RESPONSE_KEY_BYTES.length || data[data.length - 1] !== CLOSING_BRACE) return undefined;
  if (!startsWithAt(data, PREFIX_BYTES, 0)) return undefined;
  const idEnd = endOfStringId(data, PREFIX_BYTES.length);
  if (idEnd === undefined || !startsWithAt(data, RESPONSE_KEY_BYTES, idEnd)) return undefined;
  return data.subarray(idEnd + RESPONSE_KEY_BYTES.length, data.length - 1);
}

/** Where a JSON string without escapes that starts at `from` ends (just past its closing quote). */
function endOfStringId(data: Uint8Array, from: number): number | undefined {
  if (data[from] !== QUOTE) return undefined;
  for (let i = from + 1; i < data.length; i += 1) {
    if (data[i] === BACKSLASH) return undefined;
    if (data[i] === QUOTE) return i + 1;
  }
  return undefined;
}

function startsWithAt(data: Uint8Array, expected: Uint8Array, at: number): boolean {
  if (at + expected.length > data.length) return false;
  for (let i = 0; i < expected.length; i += 1) if (data[at + i] !== expected[i]) return false;
  return true;
}

/** A Nest reply packet: `{ response, isDisposed, id }` on success, `{ err, isDisposed, id }` on failure. */
interface ReplyPacket {
  id?: unknown;
  response?: unknown;
  err?: unknown;
  isDisposed?: boolean;
  headers?: unknown;
}

/**
 * Nest's NATS reply serializer, writing final successful replies with a string id in the layout
 * above; anything else (errors, stream items, records with headers) as Nest does.
 */
export class ResponseLastSerializer implements Serializer<ReplyPacket, unknown> {
  private readonly nest = new NatsRecordSerializer();

  serialize(packet: ReplyPacket): unknown {
    const plain = packet?.isDisposed === true && typeof packet.id === 'string' && packet.err === undefined && packet.headers === undefined;
    if (plain && !(packet.response instanceof NatsRecord)) return { data: encodeReply(packet.id as string, packet.response) };
    return this.nest.serialize(packet);
  }
}

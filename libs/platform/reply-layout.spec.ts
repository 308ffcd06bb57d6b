import { NatsRecordBuilder } from '@nestjs/microservices';
import { encodeReply, PreEncodedJson, responseBytesOf, ResponseLastSerializer } from './reply-layout.js';

const text = (bytes: Uint8Array | undefined) => (bytes === undefined ? undefined : Buffer.from(bytes).toString());
const bytesOf = (value: string) => new Uint8Array(Buffer.from(value));

describe('the reply layout (response last)', () => {
  const response = { owner: false, grants: [{ section: 'scenarios', actions: ['read'] }], note: 'a "quoted" }, brace' };

  it("is Nest's reply packet: any JSON reader gets the same response, id and isDisposed", () => {
    expect(JSON.parse(encodeReply('abc12', response))).toEqual({ isDisposed: true, id: 'abc12', response });
    expect(JSON.parse(encodeReply(7, [1, 2]))).toEqual({ isDisposed: true, id: 7, response: [1, 2] });
    expect(JSON.parse(encodeReply('x', undefined))).toEqual({ isDisposed: true, id: 'x' });
  });

  it("gives back the response's bytes exactly as written", () => {
    expect(text(responseBytesOf(bytesOf(encodeReply('abc12', response))))).toBe(JSON.stringify(response));
    expect(text(responseBytesOf(bytesOf(encodeReply('e0c1-uuid-like', 'plain string'))))).toBe('"plain string"');
    expect(text(responseBytesOf(bytesOf(encodeReply('1', null))))).toBe('null');
  });

  it.each([
    ["Nest's own layout", '{"response":{"a":1},"isDisposed":true,"id":"1"}'],
    ['an error', '{"err":{"code":"NOT_FOUND"},"isDisposed":true,"id":"1"}'],
    ['a reply without a response', encodeReply('1', undefined)],
    ['a numeric id', encodeReply(7, { a: 1 })],
    ['an id with an escape', '{"isDisposed":true,"id":"a\\"b","response":{"a":1}}'],
    ['a reply with something after its closing brace', `${encodeReply('1', { a: 1 })}\n`],
    ['an empty body', ''],
  ])('leaves %s to a JSON reader', (_label, reply) => {
    expect(responseBytesOf(bytesOf(reply))).toBeUndefined();
  });
});

describe('ResponseLastSerializer', () => {
  const serializer = new ResponseLastSerializer();
  const data = (packet: object) => (serializer.serialize(packet) as { data: string }).data;

  it('writes a final successful reply with its response last', () => {
    expect(data({ response: { a: 1 }, isDisposed: true, id: 'r1' })).toBe('{"isDisposed":true,"id":"r1","response":{"a":1}}');
  });

  it('writes a response already written as JSON as it is, and the same JSON where Nest serializes the packet itself', () => {
    const written = new PreEncodedJson('{"owner":true,"grants":[],"system":["members:read"]}');
    expect(data({ response: written, isDisposed: true, id: 'r1' })).toBe(
      '{"isDisposed":true,"id":"r1","response":{"owner":true,"grants":[],"system":["members:read"]}}',
    );
    expect(JSON.parse(data({ response: written, isDisposed: false, id: 'r1' }))).toEqual({
      response: { owner: true, grants: [], system: ['members:read'] },
      isDisposed: false,
      id: 'r1',
    });
    expect(JSON.parse(encodeReply(7, written))).toEqual({ isDisposed: true, id: 7, response: { owner: true, grants: [], system: ['members:read'] } });
  });

  it('writes errors, stream items and records with headers as Nest does', () => {
    expect(JSON.parse(data({ err: { code: 'X' }, isDisposed: true, id: 'r1' }))).toEqual({ err: { code: 'X' }, isDisposed: true, id: 'r1' });
    expect(data({ response: 1, isDisposed: false, id: 'r1' })).toBe('{"response":1,"isDisposed":false,"id":"r1"}');
    const record = new NatsRecordBuilder({ a: 1 }).build();
    expect(responseBytesOf(bytesOf(data({ response: record, isDisposed: true, id: 'r1' })))).toBeUndefined();
  });
});

import { JetStreamApiError } from '@nats-io/jetstream';
import { errors } from '@nats-io/transport-node';
import { classifyPublishFailure, describePublishFailure, noStreamTakesSubject } from './publish-failure.js';

function jetStreamRefusal(status: number, errCode: number, description: string): JetStreamApiError {
  return new JetStreamApiError({ code: status, err_code: errCode, description });
}

/** What a publish of NATS 3's client rejects with when the server answers with no responders (the stream away). */
function jetStreamNotEnabled(): Error {
  const error = new Error('jetstream is not enabled', { cause: new errors.RequestError('no responders', { cause: new errors.NoRespondersError('events.x') }) });
  error.name = 'JetStreamNotEnabled';
  return error;
}

describe('classifyPublishFailure', () => {
  it.each([
    ['a timeout', new errors.TimeoutError()],
    ['a closed connection', new errors.ClosedConnectionError()],
    ['a draining connection', new errors.DrainingConnectionError()],
    ['a request failed by the connection going', new errors.RequestError('connection disconnected')],
    ['no responders (the stream away)', new errors.RequestError('503', { cause: new errors.NoRespondersError('events.x') })],
    ['JetStream not enabled (what a publish with no responders throws)', jetStreamNotEnabled()],
    ['JetStream temporarily unavailable', jetStreamRefusal(503, 10008, 'JetStream system temporarily unavailable')],
    ['the stream out of storage', jetStreamRefusal(500, 10047, 'insufficient storage resources available')],
    ['the account over its limits', jetStreamRefusal(400, 10002, 'resource limits exceeded for account')],
    ['the stream gone', jetStreamRefusal(404, 10059, 'stream not found')],
  ])('keeps a row on %s: it is retried for ever', (_case, error) => {
    expect(classifyPublishFailure(error)).toBe('transient');
  });

  it.each([
    ['larger than the stream takes', jetStreamRefusal(400, 10054, 'message size exceeds maximum allowed')],
    ['larger than the server takes', errors.InvalidArgumentError.format('payload', 'max_payload size exceeded')],
    ['a subject NATS does not accept', new errors.InvalidSubjectError('events.bad subject')],
  ])('sets aside at once a row %s', (_case, error) => {
    expect(classifyPublishFailure(error)).toBe('refused');
  });

  it.each([
    ['another JetStream refusal', jetStreamRefusal(400, 10109, 'invalid operation on sealed stream')],
    [
      'a subject the service may not publish to',
      new errors.RequestError('denied', { cause: new errors.PermissionViolationError('denied', 'publish', 'events.x') }),
    ],
    ['anything else', new TypeError('unexpected')],
  ])('counts %s against the row', (_case, error) => {
    expect(classifyPublishFailure(error)).toBe('unexplained');
  });
});

describe('noStreamTakesSubject', () => {
  it.each([
    ['no responders', new errors.RequestError('503', { cause: new errors.NoRespondersError('events.x') }), true],
    ['JetStream not enabled (what a publish with no responders throws)', jetStreamNotEnabled(), true],
    ['a timeout (a subscriber that never answers, a slow server)', new errors.TimeoutError(), false],
    ['a closed connection', new errors.ClosedConnectionError(), false],
    ['the stream gone', jetStreamRefusal(404, 10059, 'stream not found'), false],
  ])('says %s is %s', (_case, error, expected) => {
    expect(noStreamTakesSubject(error)).toBe(expected);
  });
});

describe('describePublishFailure', () => {
  it('says no stream took the subject rather than "jetstream is not enabled"', () => {
    expect(describePublishFailure(jetStreamNotEnabled())).toMatch(/^NoResponders: no stream took the event's subject/);
  });

  it("names JetStream's code, and is kept short", () => {
    expect(describePublishFailure(jetStreamRefusal(400, 10054, 'message size exceeds maximum allowed'))).toBe(
      'JetStreamApiError 10054: message size exceeds maximum allowed',
    );
    expect(describePublishFailure(new TypeError('x'.repeat(5000)))).toHaveLength(1000);
  });
});

import { EVENTS_STREAM } from '#libs/contracts/index.js';
import { loadConfig, eventsStreamEnv } from './config.js';
import { EVENTS_RETENTION_MS, eventsStreamConfig, streamSettingChanges } from './events-stream.js';

const NANOS_PER_MS = 1_000_000;

describe('the events stream configuration', () => {
  it('is kept on as many servers as asked, for the retention and duplicate window consumers and the outbox rely on', () => {
    expect(eventsStreamConfig(3)).toEqual({
      name: EVENTS_STREAM,
      subjects: ['events.>'],
      num_replicas: 3,
      max_age: EVENTS_RETENTION_MS * NANOS_PER_MS,
      duplicate_window: 120_000 * NANOS_PER_MS,
    });
    expect(eventsStreamConfig(1).num_replicas).toBe(1);
  });

  it('names each setting of an existing stream that differs, with what it was and what it becomes', () => {
    const wanted = eventsStreamConfig(3);
    expect(streamSettingChanges({ ...wanted, num_replicas: 1 }, wanted)).toEqual({ num_replicas: { from: 1, to: 3 } });
    expect(streamSettingChanges({ num_replicas: 3, max_age: 0, duplicate_window: 1 }, wanted)).toEqual({
      max_age: { from: 0, to: wanted.max_age },
      duplicate_window: { from: 1, to: wanted.duplicate_window },
    });
    expect(streamSettingChanges(eventsStreamConfig(3), wanted)).toEqual({});
  });
});

describe('NATS_STREAM_REPLICAS', () => {
  it('is 1 unless set (a single NATS server), and takes 1 to 5 servers', () => {
    expect(loadConfig(eventsStreamEnv, {})).toEqual({ NATS_STREAM_REPLICAS: 1 });
    expect(loadConfig(eventsStreamEnv, { NATS_STREAM_REPLICAS: '3' })).toEqual({ NATS_STREAM_REPLICAS: 3 });
    expect(loadConfig(eventsStreamEnv, { NATS_STREAM_REPLICAS: '5' })).toEqual({ NATS_STREAM_REPLICAS: 5 });
  });

  it.each(['0', '6', 'three'])('refuses %s', (raw) => {
    expect(() => loadConfig(eventsStreamEnv, { NATS_STREAM_REPLICAS: raw })).toThrow(/NATS_STREAM_REPLICAS/);
  });
});

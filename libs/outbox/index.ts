export * from './outbox.entity.js';
export * from './outbox.writer.js';
export * from './outbox.relay.js';
export * from './publish-failure.js';
export * from './outbox-metrics.js';

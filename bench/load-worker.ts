/**
 * A load generator in a process of its own (forked by {@link LoadGenerator}): an open loop of
 * HTTP GETs or NATS requests at a fixed rate. The bench process carries everything the earlier
 * scenarios left in its heap (C3 builds 10k principals' decisions there), and its pauses would
 * count as the measured service's latency; this process holds nothing but the load.
 *
 * Protocol: it receives one {@link LoadOrder}, runs the load unmeasured for `warmUpMs` and says
 * `warmed`; on `go` it runs the measured loop and sends its result, then exits.
 */
import { TestNatsRequester } from '#libs/testing/nats-rpc.js';
import { keepAliveClient, openLoop, type LoadOrder } from './harness.js';

/** One call of the order's kind; HTTP answers other than 200 count as failures. */
async function callerFor(order: LoadOrder): Promise<{ call: () => Promise<unknown>; close: () => Promise<void> }> {
  if (order.kind === 'http-get') {
    const client = keepAliveClient(order.baseUrl, 64);
    const call = () =>
      client.get(order.path, order.headers).then((answer) => {
        if (answer.status !== 200) throw new Error(`answered ${answer.status}`);
      });
    return { call, close: () => Promise.resolve(client.close()) };
  }
  const nats = await TestNatsRequester.open(order.natsUrl);
  return { call: () => nats.send(order.subject, order.data), close: () => nats.close() };
}

/** Tells the bench what went wrong and ends (the bench fails its wait instead of hanging). */
function fail(error: unknown): never {
  process.send?.({ error: error instanceof Error ? error.message : String(error) });
  process.exit(1);
}

// The bench went away (killed, or done with us): nothing to send the load for.
process.on('disconnect', () => process.exit(1));

process.once('message', (order: LoadOrder) => {
  void (async () => {
    const { call, close } = await callerFor(order);
    await openLoop(call, { ratePerSecond: order.ratePerSecond, durationMs: order.warmUpMs, warmUpMs: 0 });
    process.once('message', () => {
      openLoop(call, { ratePerSecond: order.ratePerSecond, durationMs: order.durationMs, warmUpMs: 0 }).then((result) => {
        process.send!(result, () => void close().finally(() => process.exit(0)));
      }, fail);
    });
    process.send!('warmed');
  })().catch(fail);
});

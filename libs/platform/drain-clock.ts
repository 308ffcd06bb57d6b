/** When the process's drain time ends (ms since the epoch), once a shutdown has begun. */
let drainEndsAt: number | undefined;

/** What runs the moment a shutdown begins. */
const drainListeners = new Set<() => void>();

/**
 * Starts the drain clock of a shutdown (the first call counts): every drain after it shares the
 * same `graceMs`. Tells the {@link onDrainStart} listeners at once.
 */
export function startDrain(graceMs: number): void {
  if (drainEndsAt !== undefined) return;
  drainEndsAt = Date.now() + graceMs;
  for (const listener of drainListeners) {
    try {
      listener();
    } catch {
      // A listener that fails must not stop the shutdown; the service's own hooks still run.
    }
  }
}

/**
 * Runs `listener` the moment a shutdown begins (at once if it has): for work that should stop
 * taking more before the service's own shutdown hooks run. Returns what stops listening.
 */
export function onDrainStart(listener: () => void): () => void {
  if (drainEndsAt !== undefined) listener();
  drainListeners.add(listener);
  return () => drainListeners.delete(listener);
}

/**
 * What is left of the shutdown's drain time: the drains of one shutdown (the requests in flight,
 * then a service's own work, such as the mails in hand) share `graceMs` from the signal, rather
 * than each waiting all of it. Before any shutdown, all of `graceMs`.
 */
export function drainTimeLeft(graceMs: number): number {
  return drainEndsAt === undefined ? graceMs : Math.max(0, drainEndsAt - Date.now());
}

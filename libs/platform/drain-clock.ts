/** When the process's drain time ends (ms since the epoch), once a shutdown has begun. */
let drainEndsAt: number | undefined;

/** Starts the drain clock of a shutdown (the first call counts): every drain after it shares the same `graceMs`. */
export function startDrain(graceMs: number): void {
  drainEndsAt ??= Date.now() + graceMs;
}

/**
 * What is left of the shutdown's drain time: the drains of one shutdown (the requests in flight,
 * then a service's own work, such as the mails in hand) share `graceMs` from the signal, rather
 * than each waiting all of it. Before any shutdown, all of `graceMs`.
 */
export function drainTimeLeft(graceMs: number): number {
  return drainEndsAt === undefined ? graceMs : Math.max(0, drainEndsAt - Date.now());
}

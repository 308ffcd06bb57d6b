/** A handler on the hot path: validates its own payload and returns the response, or a promise of it; throws domain errors. */
export type DirectHandler = (payload: unknown) => unknown;

/**
 * Handlers that the service's NATS server calls directly, without Nest's pipes, interceptors,
 * filters and RxJS plumbing (about half the CPU of a small request). For the few subjects
 * where that matters (access.check): the subject keeps its `@MessagePattern` (so Nest
 * subscribes it in the queue group), and the server answers it through the registered
 * function instead, with the same wire format, error payloads and in-flight accounting.
 */
export class DirectHandlers {
  private readonly handlers = new Map<string, DirectHandler>();

  /** Serves `subject` with `handler`; register before the server listens (it looks handlers up as it subscribes). */
  register(subject: string, handler: DirectHandler): void {
    this.handlers.set(subject, handler);
  }

  /** The handler of `subject`, if it has one. */
  get(subject: string): DirectHandler | undefined {
    return this.handlers.get(subject);
  }
}

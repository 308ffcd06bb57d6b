/**
 * A service's response as the JSON bytes it sent, for an HTTP route that answers with it
 * unchanged: the gateway's HTTP adapter writes the bytes as the body (`application/json`)
 * instead of parsing and serializing the response again. `T` is the response's type, for
 * readers and for the route's declared result.
 */
export class RelayedJson<T> {
  /** Never set: it only carries `T`, so that relays of different responses are different types. */
  declare readonly responseType?: T;

  constructor(readonly bytes: Uint8Array) {}

  /** A relay of a value already in memory (written as JSON once). */
  static of<T>(value: T): RelayedJson<T> {
    return new RelayedJson<T>(Buffer.from(JSON.stringify(value ?? null)));
  }
}

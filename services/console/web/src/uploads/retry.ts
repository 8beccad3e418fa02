/** Sending one row again after a lost answer or a busy service: safe, because every try of a
row carries the row's one Idempotency-Key (the service answers its first answer again), and a
report row's client report id and a watchlist row's label make even a new send a retry the
service recognises (intake answers `duplicate`, alerts `unchanged`), never a second record. */

import { ApiError } from "../api.ts";

const TRANSIENT = new Set([429, 502, 503, 504]);

/** Whether trying again may succeed: no answer at all, or a service asking to wait. */
export function transient(failure: unknown): boolean {
  if (failure instanceof ApiError) {
    // The first try of this key is still running: its answer comes on a later try.
    return TRANSIENT.has(failure.status) || failure.code === "idempotency_in_progress";
  }
  return failure instanceof TypeError;
}

/** `send`, tried up to `tries` times while it fails transiently, waiting longer each time. */
export async function withRetry<T>(
  send: () => Promise<T>,
  tries = 3,
  wait: (ms: number) => Promise<void> = (ms) => new Promise((done) => setTimeout(done, ms)),
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await send();
    } catch (failure) {
      if (attempt >= tries || !transient(failure)) throw failure;
      await wait(1000 * 2 ** (attempt - 1));
    }
  }
}

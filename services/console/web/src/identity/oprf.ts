/** RFC 9497 OPRF (mode 0x00, ristretto255-SHA512), client side, by @noble/curves' own module. */

import { ristretto255_oprf } from "@noble/curves/ed25519.js";
import { b64url, fromB64url } from "../encoding.ts";

const OPRF = ristretto255_oprf.oprf;
// One evaluate call carries at most this many elements (libs/common/identity/oprf.MAX_BATCH).
export const MAX_BATCH = 4096;
// RFC 9497 inputs are at most 2^16 - 1 bytes (their length is a 2-byte prefix).
export const MAX_INPUT_BYTES = 0xffff;
const ELEMENT = /^[A-Za-z0-9_-]{43}$/;

/** What the client keeps between blind and finalize; only `element` is ever sent. */
export interface Blinded {
  input: Uint8Array;
  blind: Uint8Array;
  element: Uint8Array;
}

/** A source of random bytes; fixed only by the RFC's test vectors. */
export type Rng = (length?: number) => Uint8Array<ArrayBuffer>;

/** Client Blind for each input (a fresh random blind each, from WebCrypto unless `rng`). */
export function blind(inputs: Uint8Array[], rng?: Rng): Blinded[] {
  return inputs.map((input) => {
    if (input.length > MAX_INPUT_BYTES) throw new RangeError("an OPRF input is too long");
    const { blind, blinded } = rng ? OPRF.blind(input, rng) : OPRF.blind(input);
    return { input, blind, element: blinded };
  });
}

/** Client Finalize: unblind each evaluated element and hash it with its input (64 bytes). */
export function finalize(states: Blinded[], evaluated: Uint8Array[]): Uint8Array[] {
  if (evaluated.length !== states.length) {
    throw new RangeError("the server answered a different number of elements");
  }
  // noble refuses a non-canonical encoding and the identity element, as RFC 9497 §3.3 asks.
  return states.map((state, i) => OPRF.finalize(state.input, state.blind, evaluated[i]));
}

/** Elements in their wire form: base64url without padding, 43 characters. */
export function encodeElements(elements: Uint8Array[]): string[] {
  return elements.map(b64url);
}

/** Wire-form elements back to bytes; refuses anything but 43 canonical characters. */
export function decodeElements(texts: unknown): Uint8Array[] {
  if (!Array.isArray(texts) || texts.length > MAX_BATCH) {
    throw new RangeError("the server answered a malformed batch");
  }
  return texts.map((text) => {
    const bytes = typeof text === "string" && ELEMENT.test(text) ? fromB64url(text) : null;
    if (!bytes || bytes.length !== 32 || b64url(bytes) !== text) {
      throw new RangeError("the server answered a malformed element");
    }
    return bytes;
  });
}

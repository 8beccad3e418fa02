/** Tokenising many identities where some may be bad: each bad one gets its error code, the
rest are canonicalised and blinded together (what the upload worker runs). */

import { b64url } from "../encoding.ts";
import type { CanonicalKey } from "./canonical.ts";
import { canonicalKeys, encodeKey } from "./canonical.ts";
import { blind, decodeElements, MAX_BATCH } from "./oprf.ts";
import { type ErrorCode, IdentityInputError } from "./rules.ts";
import { finish, type Identity, type IdentityToken, type Prepared } from "./tokens.ts";

/** Blinded elements of the good identities, and per identity its error code or null. */
export interface Blinding {
  prepared: Prepared;
  errors: (ErrorCode | null)[];
}

/** Canonicalise each identity on its own (one bad row refuses that row only) and blind. */
export function prepareEach(identities: Identity[]): Blinding {
  const errors: (ErrorCode | null)[] = [];
  const groups: CanonicalKey[][] = [];
  for (const [name, dob] of identities) {
    try {
      const keys = canonicalKeys(name, dob);
      // The CLI refuses a name that leaves no key ("no usable name") as well.
      if (!keys.length) throw new IdentityInputError("name_no_parts");
      groups.push(keys);
      errors.push(null);
    } catch (failure) {
      if (!(failure instanceof IdentityInputError)) throw failure;
      errors.push(failure.code);
    }
  }
  return { prepared: { groups, blinded: blind(groups.flat().map(encodeKey)) }, errors };
}

/** The wire form of the blinded elements: all that is sent to sharing. */
export function elementsOf(blinding: Blinding): string[] {
  return blinding.prepared.blinded.map((b) => b64url(b.element));
}

/** Tokens per identity (null for a refused one) from sharing's evaluated elements. */
export function finishEach(
  blinding: Blinding,
  evaluated: string[],
  version: number,
): (IdentityToken[] | null)[] {
  const lists = finish(blinding.prepared, decodeAll(evaluated), version);
  let next = 0;
  return blinding.errors.map((error) => (error ? null : lists[next++]));
}

// decodeElements bounds one batch; an upload's elements come back in several.
function decodeAll(texts: string[]) {
  const out = [];
  for (let i = 0; i < texts.length; i += MAX_BATCH) {
    out.push(...decodeElements(texts.slice(i, i + MAX_BATCH)));
  }
  return out;
}

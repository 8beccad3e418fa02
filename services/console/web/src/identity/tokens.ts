/** Identity tokens, as libs/common/identity/tokens.py and the SDK's batch flow (libs/sdk). */

import { b64url, fromB64url } from "../encoding.ts";
import {
  CANONICAL_VERSION,
  type CanonicalKey,
  canonicalKeys,
  encodeKey,
  type Kind,
} from "./canonical.ts";
import {
  type Blinded,
  blind,
  decodeElements,
  encodeElements,
  finalize,
  MAX_BATCH,
} from "./oprf.ts";
import { compareCodePoints } from "./rules.ts";

/** One token as events carry it: its kind, the PRF key version, the base64url output. */
export interface IdentityToken {
  kind: Kind;
  version: number;
  value: string;
}

/** The text form `<kind>.<key version>.<base64url value>` (Python's Token.encode). */
export function encodeToken(token: IdentityToken): string {
  return `${token.kind}.${token.version}.${token.value}`;
}

export type Identity = [name: string, dob: string | null];

/** Blinded canonical keys of several identities, waiting for their evaluation. */
export interface Prepared {
  groups: CanonicalKey[][];
  blinded: Blinded[];
}

/** Canonicalise and blind: nothing here leaves the browser unblinded. */
export function prepare(identities: Identity[]): Prepared {
  const groups = identities.map(([name, dob]) => canonicalKeys(name, dob));
  return { groups, blinded: blind(groups.flat().map(encodeKey)) };
}

/** The blinded elements in batches sharing accepts. */
export function batches(prepared: Prepared): Uint8Array[][] {
  const elements = prepared.blinded.map((state) => state.element);
  const out = [];
  for (let i = 0; i < elements.length; i += MAX_BATCH) out.push(elements.slice(i, i + MAX_BATCH));
  return out;
}

function compareTokens(a: IdentityToken, b: IdentityToken): number {
  return compareCodePoints(a.kind, b.kind) || a.version - b.version || compareBytes(a, b);
}

// Python sorts tokens by their value's bytes; base64url text sorts otherwise.
function compareBytes(a: IdentityToken, b: IdentityToken): number {
  const [x, y] = [fromB64url(a.value), fromB64url(b.value)];
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i] - y[i];
  return x.length - y.length;
}

/** Unblind the evaluated elements (in batch order) into one sorted token list per identity. */
export function finish(
  prepared: Prepared,
  evaluated: Uint8Array[],
  version: number,
): IdentityToken[][] {
  const outputs = finalize(prepared.blinded, evaluated);
  let position = 0;
  return prepared.groups.map((group) => {
    const tokens = group.map((key, i) => ({
      kind: key.kind,
      version,
      value: b64url(outputs[position + i]),
    }));
    position += group.length;
    return tokens.sort(compareTokens);
  });
}

/** A call to sharing as the signed-in device: `api.call` bound to "sharing" in the console. */
export type SharingCall = (
  path: string,
  opts?: { method?: string; body?: unknown },
) => Promise<unknown>;

/** This console canonicalises with another version than the network: its tokens would never
 * meet the network's, so it makes none (`identity_rules_outdated`, as the SDK). */
export class IdentityRulesOutdated extends Error {
  readonly code = "identity_rules_outdated";
  readonly client: number;
  readonly network: number;

  constructor(client: number, network: number) {
    super(`canonicaliser version ${client}, the network's is ${network}`);
    this.client = client;
    this.network = network;
  }
}

/** Token lists of (name, dob) identities via sharing's blind evaluation, as the SDK does it. */
export async function tokeniseIdentities(
  call: SharingCall,
  identities: Identity[],
): Promise<IdentityToken[][]> {
  if (identities.length === 0) return [];
  const prf = (await call("/v1/identity/prf")) as {
    current_version: number;
    canonical_version?: number;
  };
  const version = Number(prf.current_version);
  if (!Number.isSafeInteger(version)) throw new RangeError("sharing named no PRF key version");
  // A sharing that predates the binding tokenises with the first canonicaliser.
  const network = Number(prf.canonical_version ?? 1);
  if (network !== CANONICAL_VERSION) throw new IdentityRulesOutdated(CANONICAL_VERSION, network);
  const prepared = prepare(identities);
  const evaluated: Uint8Array[] = [];
  for (const batch of batches(prepared)) {
    const body = { version, elements: encodeElements(batch) };
    const answer = await call("/v1/identity/evaluate", { method: "POST", body });
    evaluated.push(...decodeElements((answer as { elements?: unknown }).elements));
  }
  return finish(prepared, evaluated, version);
}

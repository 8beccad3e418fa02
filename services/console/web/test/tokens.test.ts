// The browser's batch flow, as the SDK's: the PRF version first, then blinded elements only.
import { ristretto255_oprf } from "@noble/curves/ed25519.js";
import assert from "node:assert/strict";
import { test } from "node:test";
import { b64url, fromB64url } from "../src/encoding.ts";
import { CANONICAL_VERSION } from "../src/identity/canonical.ts";
import {
  batches,
  encodeToken,
  IdentityRulesOutdated,
  prepare,
  tokeniseIdentities,
} from "../src/identity/tokens.ts";

const KEY = ristretto255_oprf.oprf.deriveKeyPair(new Uint8Array(32), new Uint8Array(0)).secretKey;

type Log = { path: string; body?: unknown }[];

function sharing(
  log: Log,
  answer?: (elements: string[]) => unknown,
  prf: object = { current_version: 7, canonical_version: CANONICAL_VERSION },
) {
  return async (path: string, opts?: { method?: string; body?: unknown }) => {
    log.push({ path, body: opts?.body });
    if (path === "/v1/identity/prf") return prf;
    assert.equal(opts?.method, "POST");
    const { elements } = opts?.body as { elements: string[] };
    if (answer) return answer(elements);
    const evaluated = elements.map((e) => ristretto255_oprf.oprf.blindEvaluate(KEY, fromB64url(e)));
    return { elements: evaluated.map(b64url) };
  };
}

test("names never travel: only the version and 43-character elements are sent", async () => {
  const log: Log = [];
  const [first, second] = await tokeniseIdentities(sharing(log), [
    ["Мария Соболева", "1984-01-18"],
    ["SOBOLEVA, Mariya", "18.01.1984"],
  ]);
  assert.deepEqual(
    log.map((entry) => entry.path),
    ["/v1/identity/prf", "/v1/identity/evaluate"],
  );
  const body = log[1].body as { version: number; elements: string[] };
  assert.equal(body.version, 7);
  assert.equal(body.elements.length, 14);
  assert.ok(body.elements.every((e) => /^[A-Za-z0-9_-]{43}$/.test(e)));
  assert.ok(!JSON.stringify(log).match(/sobol|Собол|1984/i));
  // The same person in two spellings: the same seven tokens, labelled with the version asked.
  assert.deepEqual(first.map(encodeToken), second.map(encodeToken));
  assert.ok(first.every((t) => /^[a-z_]+\.7\.[A-Za-z0-9_-]{86}$/.test(encodeToken(t))));
});

test("no identities, no call; a malformed answer is refused", async () => {
  const log: Log = [];
  assert.deepEqual(await tokeniseIdentities(sharing(log), []), []);
  assert.equal(log.length, 0);
  const short = sharing([], (elements) => ({ elements: elements.slice(1) }));
  await assert.rejects(tokeniseIdentities(short, [["Ivan Petrov", null]]), /different number/);
  const junk = sharing([], (elements) => ({ elements: elements.map(() => "A".repeat(43)) }));
  await assert.rejects(tokeniseIdentities(junk, [["Ivan Petrov", null]]));
});

test("elements go in batches of at most 4096, in order", () => {
  const prepared = prepare([["Ivan Petrov", "1990-01-01"]]);
  const many = { ...prepared, blinded: Array(9000).fill(prepared.blinded[0]) };
  assert.deepEqual(
    batches(many).map((b) => b.length),
    [4096, 4096, 808],
  );
});

test("a console whose canonicaliser differs from the network's makes no token", async () => {
  for (const network of [CANONICAL_VERSION + 1, CANONICAL_VERSION - 1]) {
    const log: Log = [];
    const call = sharing(log, undefined, { current_version: 7, canonical_version: network });
    await assert.rejects(tokeniseIdentities(call, [["Ivan Petrov", "1990-01-01"]]), (error) => {
      assert.ok(error instanceof IdentityRulesOutdated);
      assert.equal(error.code, "identity_rules_outdated");
      assert.deepEqual([error.client, error.network], [CANONICAL_VERSION, network]);
      return true;
    });
    // Refused before anything was blinded or sent.
    assert.deepEqual(
      log.map((entry) => entry.path),
      ["/v1/identity/prf"],
    );
  }
  // A sharing that names no binding predates it: version 1.
  const old = sharing([], undefined, { current_version: 7 });
  await assert.rejects(tokeniseIdentities(old, [["Ivan Petrov", null]]), IdentityRulesOutdated);
});

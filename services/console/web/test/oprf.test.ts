// RFC 9497 A.1.1 (OPRF(ristretto255, SHA-512), mode 0x00) reproduced by the browser's client.
import { ristretto255_oprf } from "@noble/curves/ed25519.js";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { b64url, hex } from "../src/encoding.ts";
import { blind, decodeElements, encodeElements, finalize } from "../src/identity/oprf.ts";

const VECTORS = JSON.parse(
  readFileSync(
    new URL("../../../../tests/vectors/rfc9497-oprf-ristretto255-sha512.json", import.meta.url),
    "utf8",
  ),
);
const bytes = (h: string) => Uint8Array.from(h.match(/../g) ?? [], (b) => parseInt(b, 16));
const ORDER = 2n ** 252n + 27742317777372353535851937790883648493n;

// noble draws a blind as (x mod (n - 1)) + 1 from 48 random bytes: these bytes give `scalar`.
function fixedRng(scalar: Uint8Array) {
  let value = 0n;
  for (const b of [...scalar].reverse()) value = (value << 8n) | BigInt(b);
  let rest = (value - 1n) % (ORDER - 1n);
  const out = new Uint8Array(48);
  for (let i = 0; i < 48; i++, rest >>= 8n) out[i] = Number(rest & 0xffn);
  return () => out;
}

test("DeriveKeyPair gives the RFC's server key", () => {
  const keys = ristretto255_oprf.oprf.deriveKeyPair(bytes(VECTORS.Seed), bytes(VECTORS.KeyInfo));
  assert.equal(hex(keys.secretKey), VECTORS.skSm);
});

for (const [index, vector] of VECTORS.vectors.entries()) {
  test(`vector ${index + 1}: blinded element, evaluation and output as in the RFC`, () => {
    const [state] = blind([bytes(vector.Input)], fixedRng(bytes(vector.Blind)));
    assert.equal(hex(state.blind), vector.Blind);
    assert.equal(hex(state.element), vector.BlindedElement);
    const evaluated = ristretto255_oprf.oprf.blindEvaluate(bytes(VECTORS.skSm), state.element);
    assert.equal(hex(evaluated), vector.EvaluationElement);
    const [output] = finalize([state], [evaluated]);
    assert.equal(hex(output), vector.Output);
  });
}

test("random blinds differ, yet the output is the same", () => {
  const key = bytes(VECTORS.skSm);
  const input = new TextEncoder().encode("lifeline-identity/1/name/Sobolev miHail");
  const states = blind([input, input]);
  assert.notEqual(hex(states[0].element), hex(states[1].element));
  const outputs = finalize(
    states,
    states.map((s) => ristretto255_oprf.oprf.blindEvaluate(key, s.element)),
  );
  assert.equal(hex(outputs[0]), hex(outputs[1]));
});

test("elements travel as 43 base64url characters; anything else is refused", () => {
  const element = bytes(VECTORS.vectors[0].BlindedElement);
  assert.deepEqual(encodeElements([element]), [b64url(element)]);
  assert.deepEqual(decodeElements(encodeElements([element])), [element]);
  for (const bad of [[b64url(element) + "="], [b64url(element).slice(1)], ["!".repeat(43)], "x"]) {
    assert.throws(() => decodeElements(bad));
  }
  const [state] = blind([new Uint8Array([0])]);
  assert.throws(() => finalize([state], [new Uint8Array(32)]), /infinity|point/i);
  assert.throws(() => finalize([state], []), /different number/);
});

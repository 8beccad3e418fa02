// Device key, fingerprint and assertion: the same values the Python side computes.
import assert from "node:assert/strict";
import { test } from "node:test";
import { signAssertion, signingInput, tokenForm } from "../src/auth/assertion.ts";
import { fingerprint, publicJwk, rawPublicKey } from "../src/auth/keys.ts";
import { b64url, fromB64url, groups } from "../src/encoding.ts";

// RFC 8032 §7.1 test 1 public key; fingerprint as `libs.sdk.credentials.fingerprint` gives it.
const RFC8032_PUBLIC = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
const RAW = Uint8Array.from(RFC8032_PUBLIC.match(/../g)!.map((h) => parseInt(h, 16)));

test("the fingerprint is SHA-256 of the raw key in groups of four, as the CLI shows it", async () => {
  assert.equal(
    await fingerprint(RAW),
    "21fe 31df a154 a261 626b f854 046f d227 1b7b ed4b 6abe 45aa 5887 7ef4 7f97 21b9",
  );
});

test("the public JWK names only the key, in base64url without padding", () => {
  assert.deepEqual(publicJwk(RAW), {
    kty: "OKP",
    crv: "Ed25519",
    x: "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
  });
});

test("base64url round-trips every byte value and groups split hex in fours", () => {
  const all = Uint8Array.from({ length: 256 }, (_, i) => i);
  assert.deepEqual(fromB64url(b64url(all)), all);
  assert.ok(!/[+/=]/.test(b64url(all)));
  assert.equal(groups("abcdef0123"), "abcd ef01 23");
});

test("an assertion is a compact JWS with the claims RFC 7523 asks for", () => {
  const input = {
    clientId: "cli_1",
    kid: "k1",
    audience: "https://sharing.example/v1/auth/token",
    now: 1000,
    jti: "j",
  };
  const [head, body] = signingInput(input).split(".");
  const header = JSON.parse(new TextDecoder().decode(fromB64url(head)));
  const claims = JSON.parse(new TextDecoder().decode(fromB64url(body)));
  assert.deepEqual(header, { alg: "EdDSA", typ: "JWT", kid: "k1" });
  assert.equal(claims.iss, "cli_1");
  assert.equal(claims.sub, "cli_1");
  assert.equal(claims.aud, input.audience);
  assert.equal(claims.exp - claims.iat, 60);
});

test("the signature verifies with the device's public key, and a non-extractable key stays so", async () => {
  const keys = (await crypto.subtle.generateKey({ name: "Ed25519" }, false, [
    "sign",
    "verify",
  ])) as CryptoKeyPair;
  await assert.rejects(crypto.subtle.exportKey("pkcs8", keys.privateKey));
  const jws = await signAssertion(keys.privateKey, {
    clientId: "c",
    kid: "k",
    audience: "a",
    now: 1,
    jti: "x",
  });
  const [head, body, sig] = jws.split(".");
  const ok = await crypto.subtle.verify(
    { name: "Ed25519" },
    keys.publicKey,
    fromB64url(sig) as BufferSource,
    new TextEncoder().encode(`${head}.${body}`),
  );
  assert.ok(ok);
  assert.equal((await rawPublicKey(keys.publicKey)).length, 32);
  assert.equal(tokenForm(jws).get("grant_type"), "client_credentials");
});

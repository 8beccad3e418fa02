/** RFC 7523 client assertions (`private_key_jwt`) signed with the device key. */

import { b64url, b64urlText } from "../encoding.ts";

export const ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/** Short: an assertion is used once, at once (the server allows up to 300 s). */
export const ASSERTION_LIFETIME_S = 60;

export interface AssertionInput {
  clientId: string;
  kid: string;
  audience: string;
  now: number;
  jti: string;
}

/** The JWS signing input (header.payload) of an assertion. */
export function signingInput(a: AssertionInput): string {
  const header = { alg: "EdDSA", typ: "JWT", kid: a.kid };
  const payload = {
    iss: a.clientId,
    sub: a.clientId,
    aud: a.audience,
    iat: a.now,
    exp: a.now + ASSERTION_LIFETIME_S,
    jti: a.jti,
  };
  return `${b64urlText(JSON.stringify(header))}.${b64urlText(JSON.stringify(payload))}`;
}

/** A compact JWS signed with Ed25519. */
export async function signAssertion(key: CryptoKey, a: AssertionInput): Promise<string> {
  const input = signingInput(a);
  const data = new TextEncoder().encode(input);
  const signature = await crypto.subtle.sign({ name: "Ed25519" }, key, data);
  return `${input}.${b64url(new Uint8Array(signature))}`;
}

/** A random, single-use assertion id. */
export function newJti(): string {
  return b64url(crypto.getRandomValues(new Uint8Array(18)));
}

/** The token request body (RFC 6749 client_credentials with an assertion). */
export function tokenForm(assertion: string): URLSearchParams {
  return new URLSearchParams({
    grant_type: "client_credentials",
    client_assertion_type: ASSERTION_TYPE,
    client_assertion: assertion,
  });
}

/** The device key: Ed25519 made by WebCrypto, its private half never extractable. */

import { b64url, groups, hex } from "../encoding.ts";

export interface PublicJwk {
  kty: "OKP";
  crv: "Ed25519";
  x: string;
}

/** A new key pair; the private key can sign but can never be exported, not even by us. */
export async function newDeviceKey(): Promise<CryptoKeyPair> {
  return (await crypto.subtle.generateKey({ name: "Ed25519" }, false, [
    "sign",
    "verify",
  ])) as CryptoKeyPair;
}

/** The raw 32-byte public key. */
export async function rawPublicKey(publicKey: CryptoKey): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.exportKey("raw", publicKey));
}

/** The JWK the registry takes: only the members that name the key. */
export function publicJwk(raw: Uint8Array): PublicJwk {
  return { kty: "OKP", crv: "Ed25519", x: b64url(raw) };
}

/** SHA-256 of the raw public key in groups of 4 hex digits (what `lifeline admin` shows). */
export async function fingerprint(raw: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", raw as BufferSource));
  return groups(hex(digest));
}

/** Whether this browser can make Ed25519 keys (every current engine can). */
export async function supportsEd25519(): Promise<boolean> {
  try {
    await newDeviceKey();
    return true;
  } catch {
    return false;
  }
}

/** Byte encodings used by keys and tokens (base64url without padding, hex). */

export function b64url(bytes: Uint8Array): string {
  let text = "";
  for (const b of bytes) text += String.fromCharCode(b);
  return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export function b64urlText(text: string): string {
  return b64url(new TextEncoder().encode(text));
}

export function fromB64url(text: string): Uint8Array {
  const std = text.replace(/-/g, "+").replace(/_/g, "/");
  const raw = atob(std + "=".repeat((4 - (std.length % 4)) % 4));
  return Uint8Array.from(raw, (c) => c.charCodeAt(0));
}

export function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** A SHA-256 digest as 16 groups of 4 hex digits: the form an administrator compares. */
export function groups(hexDigits: string): string {
  return (hexDigits.match(/.{1,4}/g) ?? []).join(" ");
}

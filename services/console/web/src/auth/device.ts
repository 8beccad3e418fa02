/** This browser's enrolled device: its client id, key id and key pair, kept in IndexedDB.

A CryptoKey is stored as itself (structured clone), so the non-extractable private key never
exists as bytes that script, an extension reading storage, or a copied profile could read out.
*/

import { createStore, del, get, set } from "idb-keyval";

export interface Device {
  clientId: string;
  kid: string;
  fingerprint: string;
  deviceName: string;
  keys: CryptoKeyPair;
  enrolledAt: string;
  /** Set once a token was first issued: the administrator had confirmed the key. */
  confirmedAt?: string;
}

const store = createStore("lifeline-console", "device");
const KEY = "current";

export async function loadDevice(): Promise<Device | undefined> {
  return get<Device>(KEY, store);
}

export async function saveDevice(device: Device): Promise<void> {
  await set(KEY, device, store);
}

/** Forget this device here (an administrator revokes its key on the server). */
export async function forgetDevice(): Promise<void> {
  await del(KEY, store);
}

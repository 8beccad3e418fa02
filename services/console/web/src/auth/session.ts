/** Access tokens for this device: asked for with a fresh assertion, kept in memory only. */

import { newJti, signAssertion, tokenForm } from "./assertion.ts";
import type { Device } from "./device.ts";

const METADATA = "/api/sharing/.well-known/oauth-authorization-server";
const TOKEN = "/api/sharing/v1/auth/token";
/** Ask for the next token this long before the current one expires. */
const REFRESH_MARGIN_S = 30;

/** The server refused this device: not confirmed yet, revoked, or expired. */
export class DeviceRefused extends Error {
  readonly code: string;

  constructor(code: string) {
    super(code);
    this.code = code;
  }
}

export class Session {
  private token: { value: string; expires: number; scope: string } | undefined;
  private audience: string | undefined;
  private pending: Promise<string> | undefined;

  readonly device: Device;
  private readonly now: () => number;

  constructor(device: Device, now: () => number = () => Date.now() / 1000) {
    this.device = device;
    this.now = now;
  }

  /** A valid access token, asking for a new one when the current one is about to expire. */
  async accessToken(): Promise<string> {
    if (this.token && this.token.expires - this.now() > REFRESH_MARGIN_S) return this.token.value;
    // One request at a time: the inbox poll and a click must not spend two assertions.
    this.pending ??= this.fetchToken().finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  /** The scopes of the current token: what the console offers (the server still decides). */
  scopes(): Set<string> {
    return new Set((this.token?.scope ?? "").split(" ").filter(Boolean));
  }

  /** Drop the token (the server said it is no longer good). */
  drop(): void {
    this.token = undefined;
  }

  private async fetchToken(): Promise<string> {
    const audience = await this.tokenEndpoint();
    const now = Math.floor(this.now());
    const assertion = await signAssertion(this.device.keys.privateKey, {
      clientId: this.device.clientId,
      kid: this.device.kid,
      audience,
      now,
      jti: newJti(),
    });
    const answer = await fetch(TOKEN, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: tokenForm(assertion),
      cache: "no-store",
    });
    const body = await answer.json().catch(() => ({}));
    if (!answer.ok) throw new DeviceRefused(String(body.error ?? `http_${answer.status}`));
    this.token = {
      value: body.access_token,
      expires: now + Number(body.expires_in),
      scope: String(body.scope ?? ""),
    };
    return this.token.value;
  }

  private async tokenEndpoint(): Promise<string> {
    // The assertion names the token endpoint by the address the server knows itself by.
    if (!this.audience) {
      const answer = await fetch(METADATA);
      if (!answer.ok) throw new DeviceRefused("unavailable");
      this.audience = String((await answer.json()).token_endpoint);
    }
    return this.audience;
  }
}

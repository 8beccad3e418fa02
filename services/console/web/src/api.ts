/** Calls to the services through the console's same-origin proxy, with the device's token. */

import { DeviceRefused, type Session } from "./auth/session.ts";
import { nextPath, type Page } from "./paging.ts";

export type Service = "alerts" | "sharing" | "intake";

/** An error answer: the server's machine-readable code, its text and the fields it names. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly detail: string;
  readonly fields: { path: string; reason: string }[];
  /** The request's id (X-Request-ID), for a support request; never shown as the message. */
  requestId?: string;

  constructor(status: number, code: string, detail: string, fields: ApiError["fields"] = []) {
    super(code);
    this.status = status;
    this.code = code;
    this.detail = detail;
    this.fields = fields;
  }
}

let session: Session | undefined;

export function useSession(next: Session | undefined): void {
  session = next;
}

export function currentSession(): Session | undefined {
  return session;
}

/** The error of a failed answer: an RFC 9457 problem (`code`), or the token endpoint's
 * RFC 6749 error (`error`, `error_description`). */
export async function errorOf(answer: Response): Promise<ApiError> {
  const body = await answer.json().catch(() => ({}));
  const named = typeof body.code === "string" ? body.code : body.error;
  const code = typeof named === "string" ? named : `http_${answer.status}`;
  const detail = String(body.detail ?? body.error_description ?? "");
  const error = new ApiError(answer.status, code, detail, Array.isArray(body.fields) ? body.fields : []);
  const id = body.request_id ?? answer.headers.get("x-request-id");
  if (typeof id === "string") error.requestId = id;
  return error;
}

export interface CallOptions {
  method?: string;
  body?: unknown;
  signal?: AbortSignal;
  /** The Idempotency-Key of a POST, to share it between tries the caller makes itself. */
  idempotencyKey?: string;
}

/** A new Idempotency-Key (an sf-string holding a UUID, docs/api.md). */
export function newIdempotencyKey(): string {
  return `"${crypto.randomUUID()}"`;
}

/** Call `path` on a service as the signed-in device; one retry with a fresh token on 401.
 * A POST carries one Idempotency-Key for all its tries: a create is made once (docs/api.md). */
async function send(service: Service, path: string, opts: CallOptions): Promise<Response> {
  if (!session) throw new DeviceRefused("not_enrolled");
  const method = opts.method ?? "GET";
  const key: Record<string, string> =
    method === "POST" ? { "idempotency-key": opts.idempotencyKey ?? newIdempotencyKey() } : {};
  for (let attempt = 0; ; attempt++) {
    const token = await session.accessToken();
    const answer = await fetch(`/api/${service}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        accept: "application/json",
        ...key,
        ...(opts.body === undefined ? {} : { "content-type": "application/json" }),
      },
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
      signal: opts.signal,
      cache: "no-store",
    });
    if (answer.status === 401 && attempt === 0) {
      session.drop();
      continue;
    }
    if (!answer.ok) throw await errorOf(answer);
    return answer;
  }
}

/** The JSON answer of `path` (undefined for a 204). */
export async function call<T>(service: Service, path: string, opts: CallOptions = {}): Promise<T> {
  const answer = await send(service, path, opts);
  if (answer.status === 204) return undefined as T;
  return (await answer.json()) as T;
}

/** One page of a list, and the path of the next (its `Link: rel="next"`). */
export async function callPage<T>(
  service: Service,
  path: string,
  opts: CallOptions = {},
): Promise<Page<T>> {
  const answer = await send(service, path, opts);
  return { body: (await answer.json()) as T, next: nextPath(answer.headers.get("link"), path) };
}

/** Every item of a list that answers a bare array, page after page. */
export async function callAll<T>(
  service: Service,
  path: string,
  opts: CallOptions = {},
): Promise<T[]> {
  return callAllOf<T[], T>(service, path, (body) => body, opts);
}

/** Every item of a list, page after page; `items` finds them in a page's body. */
export async function callAllOf<B, T>(
  service: Service,
  path: string,
  items: (body: B) => T[],
  opts: CallOptions = {},
): Promise<T[]> {
  const found: T[] = [];
  for (let next: string | null = path; next !== null; ) {
    const page: Page<B> = await callPage<B>(service, next, opts);
    found.push(...items(page.body));
    next = page.next;
  }
  return found;
}

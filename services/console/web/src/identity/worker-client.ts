/** The page's side of the upload worker: names go to the worker by `postMessage`, the page
sends only the blinded elements to sharing, and the worker turns the answers into tokens. */

import { MAX_BATCH } from "./oprf.ts";
import type { ErrorCode } from "./rules.ts";
import type { Identity, IdentityToken, SharingCall } from "./tokens.ts";
import type { Answer, Ask } from "./worker.ts";

// The worker's hashed asset path, set by build.mjs when it bundles the page.
declare const __IDENTITY_WORKER__: string;

interface ScriptUrlPolicy {
  createScriptURL(url: string): unknown;
}
let policy: ScriptUrlPolicy | null = null;

/** The worker's URL as Trusted Types require it: the CSP allows one policy, this one, and it
turns exactly the built worker's path into a script URL and refuses anything else. */
function workerUrl(): string {
  const tt = (globalThis as { trustedTypes?: { createPolicy: Function } }).trustedTypes;
  if (!tt) return __IDENTITY_WORKER__;
  policy ??= tt.createPolicy("lifeline-worker", {
    createScriptURL: (url: string) => {
      if (url !== __IDENTITY_WORKER__) throw new TypeError("not the identity worker");
      return url;
    },
  }) as ScriptUrlPolicy;
  return policy.createScriptURL(__IDENTITY_WORKER__) as string;
}

/** Per identity: its tokens, or the code of what is wrong with the name or date. */
export type Tokenised = { tokens: IdentityToken[] } | { error: ErrorCode };

/** One worker for one upload; `close` ends it. */
export class UploadTokeniser {
  private readonly worker = new Worker(workerUrl(), { type: "module", name: "identity" });
  private readonly pending = new Map<number, (answer: Answer) => void>();
  private next = 0;
  private version: number | null = null;

  constructor() {
    this.worker.onmessage = ({ data }: MessageEvent<Answer>) => {
      this.pending.get(data.id)?.(data);
      this.pending.delete(data.id);
    };
    this.worker.onerror = () => {
      for (const [id, settle] of this.pending) settle({ id, ok: false, message: "WorkerError" });
      this.pending.clear();
    };
  }

  private ask(message: Ask): Promise<Answer & { ok: true }> {
    return new Promise((resolve, reject) => {
      this.pending.set(message.id, (answer) =>
        answer.ok ? resolve(answer) : reject(new Error(`identity worker: ${answer.message}`)),
      );
      this.worker.postMessage(message);
    });
  }

  /** Tokens of each identity via sharing's blind evaluation (one PRF version per upload). */
  async tokenise(call: SharingCall, identities: Identity[]): Promise<Tokenised[]> {
    if (this.version === null) {
      const prf = (await call("/v1/identity/prf")) as { current_version: number };
      const version = Number(prf.current_version);
      if (!Number.isSafeInteger(version)) throw new RangeError("sharing named no PRF key version");
      this.version = version;
    }
    const version = this.version;
    const id = ++this.next;
    const prepared = (await this.ask({ id, op: "prepare", identities })) as {
      elements: string[];
      errors: (ErrorCode | null)[];
    };
    const evaluated: string[] = [];
    for (let i = 0; i < prepared.elements.length; i += MAX_BATCH) {
      const body = { version, elements: prepared.elements.slice(i, i + MAX_BATCH) };
      const answer = await call("/v1/identity/evaluate", { method: "POST", body });
      const elements = (answer as { elements?: unknown }).elements;
      if (!Array.isArray(elements)) throw new RangeError("the server answered a malformed batch");
      evaluated.push(...elements.map(String));
    }
    const done = (await this.ask({ id, op: "finish", evaluated, version })) as {
      tokens: (IdentityToken[] | null)[];
    };
    return prepared.errors.map((error, i) =>
      error ? { error } : { tokens: done.tokens[i] as IdentityToken[] },
    );
  }

  close(): void {
    this.worker.terminate();
  }
}

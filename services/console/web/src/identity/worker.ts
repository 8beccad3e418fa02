/** The upload worker: canonicalises and blinds names off the page's thread, and unblinds what
sharing evaluated. It has no network access of its own use: the page sends the blinded
elements, so a name only ever crosses `postMessage` inside this browser. */

import { type Blinding, elementsOf, finishEach, prepareEach } from "./batch.ts";
import type { Identity } from "./tokens.ts";

export type Ask =
  | { id: number; op: "prepare"; identities: Identity[] }
  | { id: number; op: "finish"; evaluated: string[]; version: number };

export type Answer =
  | { id: number; ok: true; elements: string[]; errors: (string | null)[] }
  | { id: number; ok: true; tokens: unknown[] }
  | { id: number; ok: false; message: string };

// The blinds wait here between the two steps and never leave the worker.
const waiting = new Map<number, Blinding>();
const scope = self as unknown as {
  onmessage: ((e: MessageEvent<Ask>) => void) | null;
  postMessage: (a: Answer) => void;
};

scope.onmessage = ({ data }) => {
  try {
    if (data.op === "prepare") {
      const blinding = prepareEach(data.identities);
      waiting.set(data.id, blinding);
      const elements = elementsOf(blinding);
      scope.postMessage({ id: data.id, ok: true, elements, errors: blinding.errors });
    } else {
      const blinding = waiting.get(data.id);
      waiting.delete(data.id);
      if (!blinding) throw new Error("nothing prepared under this id");
      const tokens = finishEach(blinding, data.evaluated, data.version);
      scope.postMessage({ id: data.id, ok: true, tokens });
    }
  } catch (failure) {
    // Only the error's kind: its message could quote input.
    waiting.delete(data.id);
    scope.postMessage({ id: data.id, ok: false, message: (failure as Error).name || "Error" });
  }
};

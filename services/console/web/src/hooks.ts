/** Small Preact hooks: polling that pauses while a request is in flight. */

import { useEffect, useRef } from "preact/hooks";

/** Run `task` now and every `ms` after the previous run ended, until unmounted. */
export function usePoll(task: (signal: AbortSignal) => Promise<void>, ms: number, deps: unknown[]) {
  const latest = useRef(task);
  latest.current = task;
  useEffect(() => {
    const abort = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const run = async () => {
      try {
        await latest.current(abort.signal);
      } finally {
        if (!abort.signal.aborted) timer = setTimeout(run, ms);
      }
    };
    void run();
    return () => {
      abort.abort();
      clearTimeout(timer);
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, deps);
}

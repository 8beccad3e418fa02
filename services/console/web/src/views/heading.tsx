/** A page's heading, focused when the page opens so screen readers announce the new page. */

import type { ComponentChildren } from "preact";
import { useEffect, useRef } from "preact/hooks";

export function Heading({ children }: { children: ComponentChildren }) {
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => ref.current?.focus({ preventScroll: true }), []);
  return (
    <h1 tabIndex={-1} ref={ref}>
      {children}
    </h1>
  );
}

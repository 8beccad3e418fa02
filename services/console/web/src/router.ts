/** The console's pages by path, and navigation without reloading. */

export type Route =
  | { page: "inbox" }
  | { page: "alert"; id: string }
  | { page: "settings" }
  | { page: "enrol"; code: string | null }
  | { page: "admin" }
  | { page: "partners" }
  | { page: "partner"; id: string }
  | { page: "client"; id: string }
  | { page: "report" }
  | { page: "upload" }
  | { page: "reports" }
  | { page: "releases" }
  | { page: "policies"; partner: string | null }
  | { page: "audit" }
  | { page: "seizures" }
  | { page: "seizure"; id: string }
  | { page: "approvals" }
  | { page: "approval"; id: string }
  | { page: "vault" }
  | { page: "missing" };

const CODE = /^[A-Za-z0-9_-]{16,128}$/;

/** The enrolment code in what was pasted: the code itself or the whole enrolment link. */
export function codeFrom(text: string): string | null {
  const trimmed = text.trim();
  const fromLink = /#(?:.*&)?code=([A-Za-z0-9_-]+)/.exec(trimmed);
  const code = fromLink ? fromLink[1] : trimmed;
  return CODE.test(code) ? code : null;
}

/** The route of a path (and, for enrolment, the code in the fragment). */
export function parseRoute(path: string, hash = ""): Route {
  const clean = path.replace(/\/+$/, "") || "/";
  if (clean === "/" || clean === "/alerts") return { page: "inbox" };
  if (clean === "/settings") return { page: "settings" };
  if (clean === "/enrol") {
    // The code rides in the fragment, which never reaches a server or a log.
    const code = new URLSearchParams(hash.replace(/^#/, "")).get("code");
    return { page: "enrol", code: code ? codeFrom(code) : null };
  }
  const alert = /^\/alerts\/([A-Za-z0-9._:-]{1,64})$/.exec(clean);
  if (alert) return { page: "alert", id: alert[1] };
  if (clean === "/reports/new") return { page: "report" };
  if (clean === "/reports/upload") return { page: "upload" };
  if (clean === "/reports") return { page: "reports" };
  if (clean === "/reports/releases") return { page: "releases" };
  if (clean === "/admin") return { page: "admin" };
  if (clean === "/admin/partners") return { page: "partners" };
  if (clean === "/admin/policies") return { page: "policies", partner: null };
  const policies = /^\/admin\/policies\/([A-Za-z0-9._:-]{1,64})$/.exec(clean);
  if (policies) return { page: "policies", partner: policies[1] };
  if (clean === "/admin/audit") return { page: "audit" };
  if (clean === "/admin/seizures") return { page: "seizures" };
  const seizure = /^\/admin\/seizures\/(szr_[0-9a-f]{16})$/.exec(clean);
  if (seizure) return { page: "seizure", id: seizure[1] };
  if (clean === "/admin/approvals") return { page: "approvals" };
  const approval = /^\/admin\/approvals\/(apr_[0-9a-f]{16})$/.exec(clean);
  if (approval) return { page: "approval", id: approval[1] };
  if (clean === "/admin/vault") return { page: "vault" };
  const admin = /^\/admin\/(partners|clients)\/([A-Za-z0-9._~:-]{1,128})$/.exec(clean);
  if (admin) return { page: admin[1] === "partners" ? "partner" : "client", id: admin[2] };
  return { page: "missing" };
}

/** Go to `path` inside the console. */
export function navigate(path: string): void {
  history.pushState(null, "", path);
  dispatchEvent(new PopStateEvent("popstate"));
}

/** Same-origin link clicks navigate in place; anything else is left to the browser. */
export function installLinkHandler(): () => void {
  const onClick = (event: MouseEvent) => {
    if (event.defaultPrevented || event.button !== 0) return;
    if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    const anchor = (event.target as Element | null)?.closest?.("a");
    if (!anchor || anchor.target || anchor.hasAttribute("download")) return;
    const url = new URL(anchor.href, location.href);
    if (url.origin !== location.origin || url.pathname.startsWith("/api/")) return;
    event.preventDefault();
    navigate(url.pathname + url.search + url.hash);
  };
  document.addEventListener("click", onClick);
  return () => document.removeEventListener("click", onClick);
}

const NEXT = "lifeline.next";

/** Remember the alert a link opened, to show it once the device is enrolled. */
export function rememberNext(path: string): void {
  if (parseRoute(path).page !== "alert") return;
  try {
    sessionStorage.setItem(NEXT, path);
  } catch {
    // Without storage the lawyer lands on the inbox, where the alert is too.
  }
}

/** Where to go after enrolling: the remembered alert, else the inbox. */
export function nextPath(): string {
  try {
    const path = sessionStorage.getItem(NEXT);
    sessionStorage.removeItem(NEXT);
    return path && parseRoute(path).page === "alert" ? path : "/";
  } catch {
    return "/";
  }
}

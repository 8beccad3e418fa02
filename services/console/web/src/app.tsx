/** The console shell: who this device is, which page is open, and the language. */

import { useEffect, useState } from "preact/hooks";
import { useSession } from "./api.ts";
import { type Device, forgetDevice, loadDevice, saveDevice } from "./auth/device.ts";
import { supportsEd25519 } from "./auth/keys.ts";
import { DeviceRefused, Session } from "./auth/session.ts";
import {
  initialLanguage,
  LANGUAGES,
  type Language,
  language,
  setLanguage,
  t,
} from "./i18n/index.ts";
import { followsFrom } from "./report.ts";
import { installLinkHandler, parseRoute, type Route } from "./router.ts";
import { AdminHome } from "./views/admin/home.tsx";
import { ClientView } from "./views/admin/client.tsx";
import { administers, readsAlerts } from "./views/admin/model.ts";
import { PartnerView } from "./views/admin/partner.tsx";
import { Partners } from "./views/admin/partners.tsx";
import { AuditLog } from "./views/admin/audit.tsx";
import { ApprovalView, Approvals } from "./views/admin/approvals.tsx";
import { SeizureView, Seizures } from "./views/admin/seizures.tsx";
import { VaultKeys } from "./views/admin/vault-keys.tsx";
import { AdminNav } from "./views/admin/nav.tsx";
import { Policies } from "./views/admin/policies.tsx";
import { AlertView } from "./views/alert.tsx";
import { Enrol } from "./views/enrol.tsx";
import { Inbox } from "./views/inbox.tsx";
import { ReportForm } from "./views/report-form.tsx";
import { Releases } from "./views/releases.tsx";
import { ReportUpload } from "./views/report-upload.tsx";
import { Settings } from "./views/settings.tsx";
import { SignIn } from "./views/signin.tsx";
import { Submissions } from "./views/submissions.tsx";

export type Auth =
  | { kind: "loading" }
  | { kind: "unsupported" }
  | { kind: "none" }
  | { kind: "waiting"; device: Device }
  | { kind: "refused"; device: Device; code: string }
  | { kind: "offline"; device: Device }
  | { kind: "ready"; session: Session };

/** Refusals that mean "this key may not sign in", as opposed to a network or server fault. */
const REFUSED = new Set(["invalid_client", "unauthorized_client", "invalid_grant"]);
const WAIT_POLL_MS = 3000;

/** Try the device's key at the token endpoint; the answer is the sign-in state. */
export async function connect(device: Device): Promise<Auth> {
  const session = new Session(device);
  try {
    await session.accessToken();
  } catch (error) {
    if (error instanceof DeviceRefused && REFUSED.has(error.code)) {
      // Never signed in yet: the administrator has not confirmed the fingerprint.
      return device.confirmedAt
        ? { kind: "refused", device, code: error.code }
        : { kind: "waiting", device };
    }
    return { kind: "offline", device };
  }
  if (!device.confirmedAt) await saveDevice({ ...device, confirmedAt: new Date().toISOString() });
  return { kind: "ready", session };
}

function currentRoute(): Route {
  return parseRoute(location.pathname, location.hash);
}

export function App() {
  const [lang, setLang] = useState<Language>(() => {
    const first = initialLanguage();
    setLanguage(first);
    return first;
  });
  const [route, setRoute] = useState<Route>(currentRoute);
  const [auth, setAuthState] = useState<Auth>({ kind: "loading" });
  // The session is set before the views render: their first calls (children's effects run
  // before their parent's) must already find it.
  const setAuth = (next: Auth) => {
    useSession(next.kind === "ready" ? next.session : undefined);
    setAuthState(next);
  };

  useEffect(() => {
    const onPop = () => setRoute(currentRoute());
    addEventListener("popstate", onPop);
    const removeLinks = installLinkHandler();
    return () => {
      removeEventListener("popstate", onPop);
      removeLinks();
    };
  }, []);

  useEffect(() => {
    void (async () => {
      if (!(await supportsEd25519())) return setAuth({ kind: "unsupported" });
      const device = await loadDevice();
      setAuth(device ? await connect(device) : { kind: "none" });
    })();
  }, []);

  useEffect(() => {
    if (auth.kind !== "waiting" && auth.kind !== "offline") return;
    // Until the administrator confirms (or the network is back): try again every few seconds.
    const timer = setTimeout(async () => setAuth(await connect(auth.device)), WAIT_POLL_MS);
    return () => clearTimeout(timer);
  }, [auth]);

  const switchLanguage = (next: Language) => {
    setLanguage(next, true);
    setLang(next);
  };
  const enrolled = async (device: Device) => setAuth(await connect(device));
  const forget = async () => {
    await forgetDevice();
    setAuth({ kind: "none" });
  };

  return (
    <div class="shell" lang={lang}>
      <a class="skip" href="#main">
        {t("nav.skip")}
      </a>
      <header class="top">
        <a class="brand" href="/">
          Lifeline
        </a>
        {auth.kind === "ready" && <Nav route={route} scopes={auth.session.scopes()} />}
        <label class="visually-hidden" for="language">
          {t("nav.language")}
        </label>
        <select
          id="language"
          class="lang"
          value={language()}
          onChange={(e) => switchLanguage((e.target as HTMLSelectElement).value as Language)}
        >
          {LANGUAGES.map((l) => (
            <option value={l} lang={l} key={l}>
              {t(`language.${l}`)}
            </option>
          ))}
        </select>
      </header>
      <main id="main">{page(route, auth, enrolled, forget)}</main>
    </div>
  );
}

/** An NGO's submitter (or anyone else holding `reports:submit`) may write reports. */
export function submitsReports(scopes: Set<string>): boolean {
  return scopes.has("reports:submit");
}

/** Who decides release requests: the partner's readers and administrators who manage its
reports (`reports:manage`), or an operator. */
export function decidesReleases(scopes: Set<string>): boolean {
  return scopes.has("reports:manage") || scopes.has("admin");
}

const ADMIN_PAGES = new Set([
  "admin",
  "partners",
  "partner",
  "client",
  "policies",
  "audit",
  "seizures",
  "seizure",
  "approvals",
  "approval",
  "vault",
]);

/** Each role sees its own sections: a lawyer the alerts, an administrator administration. */
function Nav({ route, scopes }: { route: Route; scopes: Set<string> }) {
  const current = (on: boolean) => (on ? "page" : undefined);
  const lawyer = readsAlerts(scopes);
  return (
    <nav aria-label={t("nav.label")}>
      {lawyer && (
        <a href="/" aria-current={current(route.page === "inbox")}>
          {t("nav.alerts")}
        </a>
      )}
      {administers(scopes) && (
        <a
          href={lawyer ? "/admin" : "/"}
          aria-current={current(
            ADMIN_PAGES.has(route.page) || (!lawyer && route.page === "inbox"),
          )}
        >
          {t("nav.admin")}
        </a>
      )}
      {submitsReports(scopes) && (
        <a href="/reports/new" aria-current={current(route.page === "report" || route.page === "upload")}>
          {t("nav.report")}
        </a>
      )}
      {submitsReports(scopes) && (
        <a href="/reports" aria-current={current(route.page === "reports")}>
          {t("nav.reports")}
        </a>
      )}
      {decidesReleases(scopes) && (
        <a href="/reports/releases" aria-current={current(route.page === "releases")}>
          {t("nav.releases")}
        </a>
      )}
      <a href="/settings" aria-current={current(route.page === "settings")}>
        {t("nav.settings")}
      </a>
    </nav>
  );
}

function page(
  route: Route,
  auth: Auth,
  enrolled: (d: Device) => Promise<void>,
  forget: () => Promise<void>,
) {
  if (route.page === "enrol") return <Enrol code={route.code} onEnrolled={enrolled} />;
  if (auth.kind !== "ready") return <SignIn auth={auth} onForget={forget} />;
  const view = pageView(route, auth, forget);
  // Operators move between administration's sections; nobody else has more than one.
  const operator = auth.session.scopes().has("admin");
  return operator && ADMIN_PAGES.has(shownPage(route, auth)) ? (
    <>
      <AdminNav page={shownPage(route, auth)} />
      {view}
    </>
  ) : (
    view
  );
}

/** The page a route shows: an operator's `/` is administration. */
function shownPage(route: Route, auth: Auth & { kind: "ready" }): string {
  const scopes = auth.session.scopes();
  if (route.page === "inbox" && !readsAlerts(scopes) && administers(scopes)) return "admin";
  return route.page;
}

function pageView(route: Route, auth: Auth & { kind: "ready" }, forget: () => Promise<void>) {
  switch (route.page) {
    case "inbox":
      // An operator has no alerts: their console opens on administration.
      if (readsAlerts(auth.session.scopes())) return <Inbox />;
      if (administers(auth.session.scopes())) return <AdminHome />;
      // An NGO's submitter has neither: their console opens on the report form.
      return submitsReports(auth.session.scopes()) ? <ReportForm /> : <Inbox />;
    case "admin":
      return <AdminHome />;
    case "partners":
      return <Partners />;
    case "partner":
      return <PartnerView key={route.id} id={route.id} />;
    case "client":
      // A new id is a new page: nothing (a code shown once) carries over from the last one.
      return <ClientView key={route.id} id={route.id} />;
    case "policies":
      return <Policies partner={route.partner} />;
    case "audit":
      return <AuditLog />;
    case "seizures":
      return <Seizures />;
    case "seizure":
      return <SeizureView key={route.id} id={route.id} />;
    case "approvals":
      return <Approvals />;
    case "approval":
      return <ApprovalView key={route.id} id={route.id} />;
    case "vault":
      return <VaultKeys />;
    case "alert":
      return <AlertView id={route.id} />;
    case "report": {
      // `?follows=` opens the form for a follow-up; another one is a fresh form.
      const follows = followsFrom(location.search);
      return <ReportForm key={follows ?? ""} follows={follows} />;
    }
    case "upload":
      return <ReportUpload />;
    case "reports":
      return <Submissions />;
    case "releases":
      return <Releases />;
    case "settings":
      return <Settings device={auth.session.device} onForget={forget} />;
    default:
      return <h1 tabIndex={-1}>{t("page.missing")}</h1>;
  }
}

/** What became of the organisation's alerts: resolved, by outcome, the "not my client" share. */

import { useEffect, useState } from "preact/hooks";
import { call } from "../api.ts";
import { t } from "../i18n/index.ts";
import type { Feedback } from "../types.ts";
import { ErrorNote, Row } from "./common.tsx";

const STRENGTHS = ["strong", "possible"] as const;

function share(value: number | null): string {
  return value === null ? "—" : `${Math.round(value * 100)}%`;
}

export function FeedbackFigures() {
  const [figures, setFigures] = useState<Feedback | null>(null);
  const [error, setError] = useState<unknown>(null);

  useEffect(() => {
    call<Feedback>("alerts", "/v1/organisation/feedback").then(setFigures).catch(setError);
  }, []);

  if (!figures) return <ErrorNote error={error} />;
  const outcomes = Object.entries(figures.by_outcome).filter(([, n]) => n > 0);
  return (
    <section class="feedback" aria-labelledby="feedback-title">
      <h3 id="feedback-title">{t("feedback.title")}</h3>
      <dl>
        <Row label={t("feedback.resolved")}>{String(figures.resolved)}</Row>
        <Row label={t("feedback.share")}>{share(figures.not_my_client_share)}</Row>
        {STRENGTHS.map((s) => (
          <Row label={t(`feedback.${s}`)} key={s}>
            {t("feedback.of_strength", {
              resolved: String(figures.by_strength[s].resolved),
              share: share(figures.by_strength[s].not_my_client_share),
            })}
          </Row>
        ))}
        {outcomes.map(([outcome, n]) => (
          <Row label={t(`outcome.${outcome}`)} key={outcome}>
            {String(n)}
          </Row>
        ))}
        <Row label={t("feedback.suppressed")}>{String(figures.suppressed_matches)}</Row>
      </dl>
    </section>
  );
}

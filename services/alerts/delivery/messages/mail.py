"""The text of alert emails, in the language of the alert's lawyer (`AlertView.language`).

Plain mail carries the minimum (alert id, priority, sign-in links); the details and the link
that acknowledges only travel when the body is OpenPGP-encrypted to its recipient.
"""

from __future__ import annotations

from functools import partial

from services.alerts.delivery.domain import PAGE_KINDS, AlertView
from services.alerts.delivery.messages import text


def email_subject(view: AlertView) -> str:
    """Generic on purpose: a subject line is visible to every mail server on the way."""
    # An escalation step is a page like the first: the same subject (its body says reminder).
    kind = "alert" if view.kind in PAGE_KINDS else view.kind
    return text(view.language, f"email.subject.{kind}")


def email_text(view: AlertView, *, encrypted: bool) -> str:
    """The body: the minimum plus links; details and the ack link only when encrypted."""
    t = partial(text, view.language)
    if view.kind == "test":
        return t("test.message") + "\n"
    if view.kind == "contact_warning":
        return warning_text(view) + "\n"
    if view.kind == "ack_notice":
        who = view.acked_by or t("email.acked.colleague")
        if view.acked_at:
            at = f"{view.acked_at:%Y-%m-%d %H:%M}"
            head = t("email.acked_at", alert_id=view.alert_id, who=who, at=at)
        else:
            head = t("email.acked", alert_id=view.alert_id, who=who)
        return f"{head}\n{t('email.acked.nobody_else')}\n"
    if view.kind == "update":
        lines = [t("email.update", alert_id=view.alert_id)]
        if encrypted:
            lines += _details(view)
        else:
            lines.append(t("email.update.sign_in", url=view.alert_url))
        return "\n".join(lines) + "\n"
    if view.kind == "withdrawal":
        return t("email.withdrawal", alert_id=view.alert_id) + "\n"
    if view.kind == "followup":
        return _followup_text(view, encrypted=encrypted)
    if view.kind == "resolve_reminder":
        # Nothing about the case: the alert id and where to say what became of it.
        lines = [t("email.resolve_reminder", alert_id=view.alert_id)]
        lines.append(t("email.resolve_reminder.how", url=view.alert_url, alert_id=view.alert_id))
        return "\n".join(lines) + "\n"
    return _page_text(view, encrypted=encrypted)


def warning_text(view: AlertView) -> str:
    """What a contact warning says: which contact (its name only where details may travel,
    else its channel; never its address) or which lawyer, and what is wrong."""
    about = f"{view.label} ({view.about})" if view.label else view.about
    return text(view.language, f"warning.{view.warning}", contact=about)


def _page_text(view: AlertView, *, encrypted: bool) -> str:
    """A page (first or escalation step): what to do and where."""
    t = partial(text, view.language)
    opener = t("email.opener.first" if view.step == 0 else "email.opener.reminder")
    priority = t(f"priority.{view.priority}") if view.priority else ""
    lines = [opener, "", t("email.alert", alert_id=view.alert_id)]
    lines.append(t("email.priority", priority=priority))
    if encrypted:
        lines += _details(view)
    lines.append("")
    acts = bool(view.ack_url and encrypted)
    if acts:
        lines.append(t("email.ack_link", url=view.ack_url))
    if view.console:
        # The console signs the lawyer in, shows the alert and acknowledges it there.
        lines.append(t("email.console", url=view.alert_url))
    elif not acts:
        # In the clear anyone on the way could read a link that acts: this one needs sign-in.
        lines.append(t("email.sign_in", url=view.alert_url))
        lines.append(t("email.then_ack", alert_id=view.alert_id))
    if not view.restricted and view.report_url and view.report_url != view.alert_url:
        lines.append(t("email.report", url=view.report_url))
    return "\n".join(lines) + "\n"


def _details(view: AlertView) -> list[str]:
    t = partial(text, view.language)
    lines = [
        t("email.entry", label=view.label),
        t("email.match", decision=view.decision, reason=view.reason),
    ]
    if view.restricted:
        # The report is another partner's, not (yet) released to this organisation.
        return [
            *lines,
            t(
                "email.restricted.denied"
                if view.release == "denied"
                else "email.restricted.pending"
            ),
        ]
    return [
        *lines,
        t("email.incident", incident_type=view.incident_type, legal_basis=view.legal_basis),
        t(
            "email.where",
            country=view.country,
            facility_kind=view.facility_kind,
            occurred_at=view.occurred_at,
        ),
    ]


def _followup_text(view: AlertView, *, encrypted: bool) -> str:
    """A follow-up (`alert.updated`): the status only where the body is encrypted."""
    t = partial(text, view.language)
    lines = [t("email.followup", alert_id=view.alert_id)]
    if encrypted and view.case_status:
        lines.append(t("email.followup.status", status=t(f"case_status.{view.case_status}")))
    lines.append(t("email.followup.sign_in", url=view.alert_url))
    return "\n".join(lines) + "\n"


def chat_text(view: AlertView, *, details: bool) -> str:
    """A chat message (Signal, Telegram, push): the email's subject and body, the details and
    the ack link only where the channel may carry them (`details`)."""
    return f"{email_subject(view)}\n\n{email_text(view, encrypted=details)}".rstrip() + "\n"


def ping_text(view: AlertView) -> str:
    """A content-free ping (SMS): that something happened, nothing about it, no link."""
    kind = "alert" if view.kind in PAGE_KINDS else view.kind
    return text(view.language, f"ping.{kind}")

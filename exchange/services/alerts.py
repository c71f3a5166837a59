"""Matching: which subscriptions learn of which reports, and the alerts that tell them.

Called in the transaction that made the reports (a submission, a watchlist upload, a
withdrawal), so an alert exists exactly when its cause was committed: the outbox. Every
alert passes the sharing decision on the feed channel and is redacted by the same
`disclose_all` as a lookup; its body is stored once and served as is by webhooks, the
stream and polling. The disclosure is logged per recipient (never naming other recipients
or the subscriber's watchlist to the submitter).
"""

import json
from collections import defaultdict
from collections.abc import Collection, Mapping
from dataclasses import replace
from datetime import datetime

from sqlmodel import Session

from exchange.core import jcs
from exchange.core.alerts import AlertKind, alert_body, alert_id, revocation_body
from exchange.core.flags import Flag, disclose_all
from exchange.core.ledger import Action, Entry
from exchange.core.policy import Channel, Policy, Viewer, decide, masks, pseudonym
from exchange.core.subscriptions import Subscription, WatchEntry, match_key
from exchange.services.audit import record
from exchange.services.policy import current_policy
from exchange.store.alerts import AlertStore, NewAlert
from exchange.store.flags import FlagReports, FlagStore
from exchange.store.ledger import LedgerStore
from exchange.store.partners import PartnerStore
from exchange.store.subscriptions import SubscriptionStore


def alert_on_submission(
    session: Session, submission_id: str, *, now: datetime, alias_secret: bytes
) -> int:
    """Queue the alerts for the reports a submission just added; how many."""
    if not SubscriptionStore(session).any_active():
        return 0
    new: dict[int, set[int]] = defaultdict(set)
    by_key: dict[tuple[str, str], set[int]] = defaultdict(set)
    where: dict[int, tuple[str, str]] = {}
    for report_id, flag_id, chain, address in FlagStore(session).reports_of_submission(
        submission_id
    ):
        new[flag_id].add(report_id)
        by_key[match_key(chain, address)].add(flag_id)
        where[flag_id] = (chain, address)
    subscriptions = SubscriptionStore(session)
    wanted: dict[str, set[int]] = defaultdict(set)
    for subscription_id, entry in subscriptions.watching(list(by_key)):
        for flag_id in by_key[(entry.match_chain, entry.address)]:
            if entry.matches(*where[flag_id]):
                wanted[subscription_id].add(flag_id)
    found = subscriptions.active(list(wanted))
    for feed in subscriptions.active_feeds():
        found[feed.id] = feed
        wanted[feed.id].update(new)
    if not found:
        return 0  # the common case: nobody watches these addresses; no report is read
    flags = FlagStore(session).reports_of_flags({flag_id for s in found for flag_id in wanted[s]})
    return _queue(session, found, wanted, flags, new, now=now, alias_secret=alias_secret)


def alert_on_watchlist(
    session: Session,
    subscription: Subscription,
    entries: Collection[WatchEntry],
    *,
    now: datetime,
    alias_secret: bytes,
) -> int:
    """Retro-match: alerts for the reports already held on newly watched `entries` (an entry
    that names a chain matches only there)."""
    store = FlagStore(session)
    watched: dict[tuple[str, str], list[WatchEntry]] = defaultdict(list)
    for entry in entries:
        watched[(entry.match_chain, entry.address)].append(entry)
    flags = {
        flag_id: flag
        for flag_id, flag in store.reports_of_flags(store.flags_matching(list(watched))).items()
        if any(
            entry.matches(flag.chain, flag.address)
            for entry in watched[match_key(flag.chain, flag.address)]
        )
    }
    if not flags:
        return 0
    everything = {flag_id: {r.id for r in flag.reports} for flag_id, flag in flags.items()}
    found = {subscription.id: subscription}
    wanted = {subscription.id: set(flags)}
    return _queue(session, found, wanted, flags, everything, now=now, alias_secret=alias_secret)


def notify_withdrawn(
    session: Session, report_id: int, *, reason: str, effective: datetime, now: datetime
) -> int:
    """Revocation notices to every subscription whose alerts carried `report_id`."""
    flag_id = FlagStore(session).flag_of_report(report_id)
    flag = FlagStore(session).reports_of_flags([flag_id])[flag_id]
    carried: dict[str, tuple[str, list[str]]] = {}
    alerts = AlertStore(session)
    for subscription_id, partner_id, sent_id, sent_body in alerts.sent_on_flag(flag_id):
        if any(r["id"] == report_id for r in json.loads(sent_body)["reports"]):
            carried.setdefault(subscription_id, (partner_id, []))[1].append(sent_id)
    webhooks = SubscriptionStore(session).active(list(carried))
    notices = []
    for subscription_id, (partner_id, sent) in carried.items():
        notice_id = alert_id(subscription_id, report_id, AlertKind.REVOCATION)
        body = revocation_body(
            alert_id=notice_id,
            created=now,
            subscription_id=subscription_id,
            recipient=partner_id,
            chain=flag.chain,
            address=flag.address,
            report_id=report_id,
            reason=reason,
            effective=effective,
            alerts=sent,
        )
        active = webhooks.get(subscription_id)
        url = active.webhook_url if active is not None else None
        notices.append(_new(body, partner_id, subscription_id, report_id, flag_id, url))
    return _store(session, notices, now=now)


def notify_expired(session: Session, *, now: datetime) -> int:
    """Revocation notices for alerted reports whose `valid_until` has passed."""
    return sum(
        notify_withdrawn(session, report_id, reason="expired", effective=until, now=now)
        for report_id, until in AlertStore(session).expired_unnotified(now=now)
    )


def _queue(
    session: Session,
    subscriptions: Mapping[str, Subscription],
    wanted: Mapping[str, set[int]],
    flags: Mapping[int, FlagReports],
    new: Mapping[int, set[int]],
    *,
    now: datetime,
    alias_secret: bytes,
) -> int:
    if not subscriptions:
        return 0
    policy = current_policy(session)
    names = {p.id: p.name for p in PartnerStore(session).list_all()}
    queued = []
    for subscription in subscriptions.values():
        for flag_id in sorted(wanted.get(subscription.id, ())):
            found = _seen_by(subscription.partner_id, flags[flag_id], policy, now, alias_secret)
            if found is None:
                continue
            flag, rules = found
            fresh = [
                r.id
                for r in flag.reports
                if r.id in new[flag_id]
                and r.partner_id != subscription.partner_id
                and subscription.wants(r, flag)
            ]
            for report_id in fresh:
                body = alert_body(
                    alert_id=alert_id(subscription.id, report_id, AlertKind.ALERT),
                    created=now,
                    subscription_id=subscription.id,
                    recipient=subscription.partner_id,
                    flag=flag,
                    new_reports=fresh,
                    names=names,
                )
                alert = _new(
                    body,
                    subscription.partner_id,
                    subscription.id,
                    report_id,
                    flag_id,
                    subscription.webhook_url,
                )
                queued.append(replace(alert, why=f"policy v{policy.version}: {rules[report_id]}"))
    return _store(session, queued, now=now)


def _seen_by(
    partner_id: str, flag: FlagReports, policy: Policy, now: datetime, alias_secret: bytes
) -> tuple[Flag, dict[int, str]] | None:
    """The flag as the subscriber may learn it through a feed (never an oversight view),
    and the rule that allowed each report it shows (for the sharing log)."""
    viewer = Viewer(partner_id)
    decided = [
        (r, decide(r.shared(), viewer, policy, now=now, channel=Channel.FEED))
        for r in flag.reports
    ]
    seen = disclose_all(
        decided,
        lambda submitter: pseudonym(alias_secret, submitter, partner_id),
        lambda report: masks(report.shared(), viewer, policy, now=now),
    )
    rules = {report.id: decision.rule for report, decision in decided}
    return (Flag(flag.chain, flag.address, seen), rules) if seen else None


def _new(
    body: dict[str, object],
    partner_id: str,
    subscription_id: str,
    report_id: int,
    flag_id: int,
    webhook_url: str | None,
) -> NewAlert:
    return NewAlert(
        id=str(body["id"]),
        kind=str(body["type"]),
        partner_id=partner_id,
        subscription_id=subscription_id,
        report_id=report_id,
        flag_id=flag_id,
        body=jcs.dumps(body).decode(),
        webhook_url=webhook_url,
    )


def _store(session: Session, alerts: list[NewAlert], *, now: datetime) -> int:
    """Log the disclosures (one entry per recipient; this takes the log's lock, so alert
    cursors follow commit order), then store what is new."""
    store = AlertStore(session)
    LedgerStore(session).lock()  # before looking: a concurrent writer of the same ids waits
    fresh = [a for a in alerts if a.id not in store.existing([a.id for a in alerts])]
    if not fresh:
        return 0
    by_recipient: dict[str, list[NewAlert]] = defaultdict(list)
    for alert in fresh:
        by_recipient[alert.partner_id].append(alert)
    record(
        session,
        *(
            Entry(
                Action.REPORTS_DISCLOSED,
                now,
                "exchange",
                recipient,
                partners=(recipient,),
                details={
                    "channel": Channel.FEED.value,
                    "alerts": [
                        {
                            "id": a.id,
                            "kind": a.kind,
                            "subscription": a.subscription_id,
                            "report": a.report_id,
                            **({"why": a.why} if a.why else {}),
                        }
                        for a in sent
                    ],
                },
            )
            for recipient, sent in sorted(by_recipient.items())
        ),
    )
    return store.add(fresh, at=now)

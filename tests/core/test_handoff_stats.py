"""Handoff figures from hand-built handoffs whose answers give known rates, medians and
speed-to-lead shares."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from nurture.core.backtest import Window
from nurture.core.handoff_stats import (
    NO_REASON,
    NO_SOURCE,
    NOBODY,
    Answer,
    HandoffRecord,
    handoff_report,
)
from nurture.core.handoff_timing import LIMITS

T0 = datetime(2026, 9, 1, 9, 0, tzinfo=UTC)
NOW = T0 + timedelta(days=10)
WINDOW = Window(T0 - timedelta(days=30), NOW)
MIN = timedelta(minutes=1)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
MQL = "mql: fit in [A, B] and engagement >= 50"
DEMO = "hand-raiser demo-request"

_ids = iter(range(1, 10_000))


def handoff(*answers, stage="mql", rule=MQL, source="webinar", owner="ana", status=None, **kw):
    """A handoff assigned at T0, answered ``(outcome, after, reason)`` later."""
    given = tuple(Answer(outcome, T0 + after, reason) for outcome, after, reason in answers)
    if status is None:
        status = given[-1].outcome if given else "open"
    return HandoffRecord(
        id=next(_ids),
        stage=stage,
        status=status,
        assigned_at=kw.pop("assigned_at", T0),
        rule=rule,
        source=source,
        owner=owner,
        answers=given,
        **kw,
    )


def accepted(after, **kw):
    return handoff(("accepted", after, None), **kw)


def rejected(after, reason="not_now", **kw):
    return handoff(("rejected", after, reason), **kw)


class TestAcceptance:
    def test_accepted_then_won_counts_once_as_accepted(self):
        report = handoff_report(
            [handoff(("accepted", 5 * MIN, None), ("won", 20 * DAY, None))], WINDOW, NOW
        )

        total = report.total
        assert (total.handed_off, total.answered, total.accepted, total.won) == (1, 1, 1, 1)
        assert total.acceptance_rate == 1.0

    def test_won_without_accepting_first_is_accepted(self):
        report = handoff_report([handoff(("won", 2 * HOUR, None))], WINDOW, NOW)

        assert (report.total.accepted, report.total.won) == (1, 1)
        assert report.time_to_accept.median == 2 * HOUR

    def test_acceptance_rate_is_accepted_over_answered_not_over_handed_off(self):
        records = [accepted(MIN), accepted(MIN), rejected(MIN), handoff(), handoff()]

        total = handoff_report(records, WINDOW, NOW).total

        assert (total.handed_off, total.answered, total.accepted, total.rejected) == (5, 3, 2, 1)
        assert total.open == 2
        assert total.acceptance_rate == 2 / 3

    def test_no_answer_means_no_rate(self):
        assert handoff_report([handoff()], WINDOW, NOW).total.acceptance_rate is None

    def test_superseded_unanswered_is_neither_open_nor_answered(self):
        total = handoff_report([handoff(status="superseded")], WINDOW, NOW).total

        assert (total.handed_off, total.answered, total.open, total.superseded) == (1, 0, 0, 1)

    def test_lost_after_accepting_is_accepted_and_lost(self):
        total = handoff_report(
            [handoff(("accepted", MIN, None), ("lost", DAY, "no_budget"))], WINDOW, NOW
        ).total

        assert (total.accepted, total.lost, total.rejected) == (1, 1, 0)


class TestBreakdowns:
    def test_by_rule_source_and_rep_largest_first(self):
        records = [
            accepted(MIN, rule=MQL, source="webinar", owner="ana"),
            rejected(MIN, rule=MQL, source="webinar", owner="ben"),
            accepted(MIN, rule=DEMO, source="ads", owner="ana", stage="sql"),
            handoff(rule=MQL, source=None, owner=None),
        ]

        report = handoff_report(records, WINDOW, NOW)

        by_rule = {t.key: (t.handed_off, t.accepted, t.acceptance_rate) for t in report.by_rule}
        assert by_rule == {MQL: (3, 1, 0.5), DEMO: (1, 1, 1.0)}
        assert [t.key for t in report.by_rule] == [MQL, DEMO]
        by_source = {t.key: (t.handed_off, t.open) for t in report.by_source}
        assert by_source == {"webinar": (2, 0), "ads": (1, 0), NO_SOURCE: (1, 1)}
        by_rep = {t.key: (t.answered, t.accepted, t.rejected) for t in report.by_rep}
        assert by_rep == {"ana": (2, 2, 0), "ben": (1, 0, 1), NOBODY: (0, 0, 0)}
        assert {t.key: t.handed_off for t in report.by_stage} == {"mql": 3, "sql": 1}

    def test_reject_reasons_with_their_share_of_rejections(self):
        records = [
            rejected(MIN, "not_now"),
            rejected(MIN, "not_now"),
            rejected(MIN, "bad_fit"),
            rejected(MIN, None),
            accepted(MIN),
        ]

        reasons = handoff_report(records, WINDOW, NOW).reject_reasons

        assert [(r.reason, r.count, r.share) for r in reasons] == [
            ("not_now", 2, 0.5),
            (NO_REASON, 1, 0.25),
            ("bad_fit", 1, 0.25),
        ]

    def test_only_handoffs_assigned_inside_the_window_count(self):
        records = [accepted(MIN), accepted(MIN, assigned_at=WINDOW.start - MIN)]

        assert handoff_report(records, WINDOW, NOW).total.handed_off == 1


class TestTimeToAccept:
    def test_median_and_p90_per_stage(self):
        records = [accepted(n * HOUR) for n in (1, 2, 3, 4, 5, 6, 7, 8, 9, 10)]
        records += [accepted(30 * MIN, stage="sql"), rejected(MIN, stage="sql")]

        report = handoff_report(records, WINDOW, NOW)

        mql = report.time_to_accept_by_stage["mql"]
        assert (mql.count, mql.median, mql.p90) == (10, 5.5 * HOUR, 9.1 * HOUR)
        sql = report.time_to_accept_by_stage["sql"]
        assert (sql.count, sql.median, sql.p90) == (1, 30 * MIN, 30 * MIN)
        assert report.time_to_accept.count == 11

    def test_counts_from_the_first_accepted_answer_not_the_first_answer(self):
        # A rejection is final, so the only way to an earlier other answer is none: an
        # accepted then won handoff is timed to its acceptance.
        report = handoff_report(
            [handoff(("won", 3 * DAY, None), ("accepted", 2 * HOUR, None))], WINDOW, NOW
        )

        assert report.time_to_accept.median == 2 * HOUR

    def test_none_accepted_gives_no_median(self):
        report = handoff_report([rejected(MIN)], WINDOW, NOW)

        assert (report.time_to_accept.count, report.time_to_accept.median) == (0, None)
        assert report.time_to_accept_by_stage["mql"].p90 is None


class TestSpeedToLead:
    def test_first_answer_of_any_kind_median_and_p90(self):
        records = [accepted(2 * MIN), rejected(4 * MIN), accepted(10 * MIN), rejected(2 * HOUR)]

        speed = handoff_report(records, WINDOW, NOW).speed_to_lead.durations

        assert (speed.count, speed.median) == (4, 7 * MIN)
        assert speed.p90 == 10 * MIN + 0.7 * (2 * HOUR - 10 * MIN)

    def test_shares_within_5_minutes_an_hour_and_a_day(self):
        records = [
            accepted(5 * MIN),  # exactly 5 minutes counts as within
            rejected(5 * MIN + timedelta(seconds=1)),
            accepted(30 * MIN),
            accepted(2 * DAY),
            handoff(),  # open for 10 days: known not answered within any limit
        ]

        within = {w.label: w for w in handoff_report(records, WINDOW, NOW).speed_to_lead.within}

        assert [label for label, _ in LIMITS] == ["5 minutes", "1 hour", "1 day"]
        assert (within["5 minutes"].answered, within["5 minutes"].known) == (1, 5)
        assert within["5 minutes"].share == 0.2
        assert (within["1 hour"].answered, within["1 day"].answered) == (3, 3)
        assert within["1 day"].share == 0.6

    def test_a_young_open_handoff_counts_only_for_limits_it_has_passed(self):
        young = handoff(assigned_at=NOW - 10 * MIN)

        within = {w.label: w for w in handoff_report([young], WINDOW, NOW).speed_to_lead.within}

        assert (within["5 minutes"].known, within["5 minutes"].share) == (1, 0.0)
        assert (within["1 hour"].known, within["1 hour"].share) == (0, None)

    def test_superseded_unanswered_handoffs_are_left_out(self):
        records = [accepted(MIN), handoff(status="superseded")]

        speed = handoff_report(records, WINDOW, NOW).speed_to_lead

        assert [w.share for w in speed.within] == [1.0, 1.0, 1.0]

    def test_distribution_buckets_each_answer_once_and_open_ones_apart(self):
        records = [accepted(5 * MIN), accepted(6 * MIN), rejected(3 * HOUR), handoff()]
        records.append(accepted(4 * DAY))

        buckets = {
            b.label: b.count for b in handoff_report(records, WINDOW, NOW).speed_to_lead.buckets
        }

        assert buckets == {
            "≤5m": 1,
            "5-30m": 1,
            "30m-1h": 0,
            "1-4h": 1,
            "4-24h": 0,
            "1-3d": 0,
            ">3d": 1,
            "open": 1,
        }


class TestSla:
    def test_open_handoffs_past_reminder_or_reassignment_and_reassignment_counts(self):
        records = [
            handoff(remind_at=NOW - MIN),  # reminder due
            handoff(reassign_at=NOW - MIN, reassignments=1),  # reassignment due
            handoff(reminded_at=NOW - DAY),  # already reminded
            handoff(remind_at=NOW + HOUR, reassign_at=NOW + DAY, reassignments=2),  # in time
            accepted(MIN, remind_at=NOW - DAY),  # answered: not past anything
        ]

        report = handoff_report(records, WINDOW, NOW)

        assert (report.past_sla, report.reassigned, report.reassignments) == (3, 2, 3)


def test_as_dict_gives_rounded_figures_in_seconds():
    records = [accepted(5 * MIN, owner="ana"), rejected(HOUR, "bad_fit", owner="ana")]

    data = handoff_report(records, WINDOW, NOW).as_dict()

    assert data["total"]["acceptance_rate"] == 0.5
    assert data["by_rep"][0] == {
        "key": "ana",
        "handed_off": 2,
        "answered": 2,
        "accepted": 1,
        "rejected": 1,
        "won": 0,
        "lost": 0,
        "open": 0,
        "superseded": 0,
        "acceptance_rate": 0.5,
    }
    assert data["reject_reasons"] == [{"reason": "bad_fit", "count": 1, "share": 1.0}]
    assert data["time_to_accept"]["median_s"] == 300.0
    assert data["speed_to_lead"]["median_s"] == (300 + 3600) / 2
    assert data["speed_to_lead"]["within"][0] == {
        "limit": "5 minutes",
        "limit_s": 300,
        "answered": 1,
        "known": 2,
        "share": 0.5,
    }
    assert data["sla"] == {"open_past_sla": 0, "reassigned_handoffs": 0, "reassignments": 0}

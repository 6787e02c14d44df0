from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from nurture.core.conditions import AttributeIs, Engaged, Op
from nurture.core.sequence import (
    AwaitEvent,
    Branch,
    Case,
    Exit,
    Goal,
    Send,
    Sequence,
    Step,
    WaitFor,
)
from nurture.core.stepping import (
    AwaitUntil,
    EventSeen,
    Finish,
    SendNow,
    Situation,
    Sleep,
    Status,
    advance,
)

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
LADDER = ("cold", "warm", "mql", "sql", "customer")

SEQ = Sequence(
    id="cold-seq",
    stages=("cold",),
    steps=(
        Step("welcome", Send("welcome.html", "Welcome")),
        Step("to-warm", Goal(stage="warm")),
        Step("demo", Goal(event="custom:demo_requested")),
        Step("pause", WaitFor(duration=timedelta(hours=6))),
        Step("guide", Send("guide.html", "Guide")),
        Step(
            "clicked",
            AwaitEvent(
                event="clicked", step="guide", timeout=timedelta(days=3), on_event="by-size"
            ),
        ),
        Step("reminder", Send("reminder.html", "Reminder")),
        Step(
            "by-size",
            Branch(
                cases=(
                    Case(AttributeIs("company_size", Op.GTE, 200), "enterprise"),
                    Case(Engaged("opened", "welcome"), "engaged"),
                ),
                otherwise="startup",
            ),
        ),
        Step("enterprise", Send("enterprise.html", "Enterprise"), goto="done"),
        Step("engaged", Send("engaged.html", "Engaged"), goto="done"),
        Step("startup", Send("startup.html", "Startup")),
        Step("done", Exit()),
    ),
)


def situation(now=NOW, events=(), size=10, stage="cold", entered_at=None):
    return Situation(
        now=now,
        zone=ZoneInfo("UTC"),
        attributes={"company_size": size},
        stage=stage,
        ladder=LADDER,
        started_at=NOW - timedelta(days=1),
        entered_at=entered_at,
        events=tuple(events),
    )


def test_send_step_sends_and_points_at_the_next_step():
    decision = advance(SEQ, "welcome", Status.ACTIVE, situation())
    assert isinstance(decision, SendNow)
    assert decision.step.id == "welcome" and decision.then == "to-warm"


def test_goals_not_met_are_passed_through_to_the_wait():
    decision = advance(SEQ, "to-warm", Status.ACTIVE, situation())
    assert decision == Sleep(resume_at="guide", until=NOW + timedelta(hours=6))


def test_reaching_the_goal_stage_or_beyond_completes_the_enrollment():
    for stage in ("warm", "mql"):
        decision = advance(SEQ, "guide", Status.ACTIVE, situation(stage=stage))
        assert decision == Finish(Status.COMPLETED, "goal: stage warm")


def test_goal_event_since_enrolling_completes_it_but_an_older_one_does_not():
    recent = EventSeen("custom:demo_requested", None, NOW - timedelta(hours=1))
    old = EventSeen("custom:demo_requested", None, NOW - timedelta(days=30))
    assert advance(SEQ, "guide", Status.ACTIVE, situation(events=[recent])) == Finish(
        Status.COMPLETED, "goal: custom:demo_requested"
    )
    assert isinstance(advance(SEQ, "guide", Status.ACTIVE, situation(events=[old])), SendNow)


class TestWaitForEvent:
    def test_arriving_starts_waiting_until_the_timeout(self):
        decision = advance(SEQ, "clicked", Status.ACTIVE, situation())
        assert decision == AwaitUntil("clicked", NOW + timedelta(days=3), NOW)

    def test_click_on_the_named_email_goes_to_on_event(self):
        entered = NOW - timedelta(days=1)
        click = EventSeen("clicked", "guide", entered - timedelta(minutes=5))  # before waiting
        decision = advance(
            SEQ,
            "clicked",
            Status.WAITING_FOR_EVENT,
            situation(events=[click], size=500, entered_at=entered),
        )
        assert isinstance(decision, SendNow) and decision.step.id == "enterprise"

    def test_click_on_another_email_does_not_count(self):
        entered = NOW - timedelta(days=1)
        click = EventSeen("clicked", "welcome", NOW - timedelta(hours=1))
        decision = advance(
            SEQ, "clicked", Status.WAITING_FOR_EVENT, situation(events=[click], entered_at=entered)
        )
        assert decision == AwaitUntil("clicked", entered + timedelta(days=3), entered)

    def test_timeout_goes_to_the_next_step_either_side_of_the_deadline(self):
        entered = NOW - timedelta(days=3)
        at_deadline = advance(
            SEQ, "clicked", Status.WAITING_FOR_EVENT, situation(entered_at=entered)
        )
        assert isinstance(at_deadline, SendNow) and at_deadline.step.id == "reminder"
        just_before = advance(
            SEQ,
            "clicked",
            Status.WAITING_FOR_EVENT,
            situation(now=NOW - timedelta(seconds=1), entered_at=entered),
        )
        assert isinstance(just_before, AwaitUntil)


class TestBranch:
    def test_first_matching_case_wins(self):
        opened = EventSeen("opened", "welcome", NOW)
        decision = advance(SEQ, "by-size", Status.ACTIVE, situation(events=[opened], size=300))
        assert decision.step.id == "enterprise"

    def test_engagement_case(self):
        opened = EventSeen("opened", "welcome", NOW)
        decision = advance(SEQ, "by-size", Status.ACTIVE, situation(events=[opened]))
        assert decision.step.id == "engaged"

    def test_otherwise(self):
        assert advance(SEQ, "by-size", Status.ACTIVE, situation()).step.id == "startup"


def test_exit_and_end_of_sequence_complete():
    assert advance(SEQ, "done", Status.ACTIVE, situation()) == Finish(Status.COMPLETED, "completed")
    assert advance(SEQ, None, Status.ACTIVE, situation()) == Finish(Status.COMPLETED, "completed")


def test_exit_with_a_reason_exits():
    seq = Sequence(id="s", stages=("cold",), steps=(Step("bye", Exit("unengaged")),))
    assert advance(seq, "bye", Status.ACTIVE, situation()) == Finish(Status.EXITED, "unengaged")

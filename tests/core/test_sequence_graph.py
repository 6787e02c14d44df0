from datetime import timedelta

from nurture.core.conditions import Engaged
from nurture.core.sequence import (
    AwaitEvent,
    Branch,
    Case,
    Exit,
    Send,
    Sequence,
    Step,
    WaitFor,
    loops_without_wait,
    referenced_ids,
    successors,
    unreachable_steps,
)


def send(step_id, goto=None):
    return Step(step_id, Send(template=f"{step_id}.html", subject=step_id), goto)


def wait(step_id, goto=None):
    return Step(step_id, WaitFor(duration=timedelta(days=1)), goto)


def seq(*steps):
    return Sequence(id="s", stages=("cold",), steps=tuple(steps))


def test_steps_follow_file_order_and_goto():
    s = seq(send("a", goto="c"), send("b"), send("c"))
    assert successors(s, s.step("a")) == ["c"]
    assert successors(s, s.step("b")) == ["c"]
    assert successors(s, s.step("c")) == [None]  # past the end: completed


def test_wait_for_and_branch_default_to_the_next_step():
    s = seq(
        Step("w", AwaitEvent(event="clicked", timeout=timedelta(days=3), on_event="x")),
        Step("b", Branch(cases=(Case(Engaged("clicked"), "x"),))),
        send("x"),
        Step("end", Exit()),
    )
    assert successors(s, s.step("w")) == ["x", "b"]
    assert successors(s, s.step("b")) == ["x", "x"]
    assert successors(s, s.step("end")) == []


def test_step_skipped_by_a_goto_is_unreachable():
    s = seq(send("a", goto="c"), send("b"), send("c"))
    assert [step.id for step in unreachable_steps(s)] == ["b"]


def test_loop_without_wait_is_found_and_a_wait_breaks_it():
    spinning = seq(send("a"), send("b", goto="a"))
    assert loops_without_wait(spinning) == [["a", "b", "a"]]
    waiting = seq(send("a"), wait("pause", goto="a"))
    assert loops_without_wait(waiting) == []


def test_referenced_ids_lists_every_named_target():
    step = Step(
        "w",
        AwaitEvent(event="clicked", timeout=timedelta(days=1), step="a", on_timeout="z"),
        goto="y",
    )
    assert sorted(referenced_ids(step)) == ["a", "y", "z"]

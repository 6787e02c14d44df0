"""nurture.yaml: one test per kind of mistake, each at its exact file, line and column.

Line numbers refer to ``PIPELINE`` in conftest.py (stages on line 2, sequences 6, sender 8,
send_window 12, frequency_cap 15, sample_lead 18, scoring 23); each test changes one line.
"""

from __future__ import annotations

from datetime import time

from nurture.config import load_funnel
from tests.config.conftest import at


class TestKeys:
    def test_unknown_top_level_key_suggests_the_right_one(self, funnel):
        funnel.replace("nurture.yaml", "handoff: {}\n", "handoff: {}\nreengagment: {}\n")
        problem = funnel.only_problem()
        assert at(problem) == ("nurture.yaml", 25, 1)
        assert (problem.path, problem.message, problem.hint) == (
            "reengagment",
            "unknown key",
            "reengagement",
        )

    def test_unknown_nested_key_suggests_the_right_one(self, funnel):
        funnel.replace("nurture.yaml", "  from: ", "  form: ")
        first, second = funnel.problems()
        assert at(first) == ("nurture.yaml", 8, 1)
        assert (first.path, first.message) == ("sender", "missing key 'from'")
        assert at(second) == ("nurture.yaml", 9, 3)
        assert second.format() == (
            "nurture.yaml:9:3: error: sender.form: unknown key (did you mean 'from'?)"
        )

    def test_missing_required_section(self, funnel):
        funnel.replace("nurture.yaml", "frequency_cap:\n  max: 3\n  per: 7d\n", "")
        problem = funnel.only_problem()
        assert at(problem) == ("nurture.yaml", 1, 1)
        assert problem.message == "missing key 'frequency_cap'"

    def test_format_version_must_be_1(self, funnel):
        funnel.replace("nurture.yaml", "version: 1", "version: 2")
        problem = funnel.only_problem()
        assert at(problem) == ("nurture.yaml", 1, 10)
        assert problem.message == "found 2; expected 1 (the only format version so far)"

    def test_top_level_must_be_a_mapping(self, funnel):
        funnel.pipeline("- cold\n- warm\n")
        problem = funnel.only_problem()
        assert at(problem) == ("nurture.yaml", 1, 1)
        assert problem.message.startswith("found a list; expected the pipeline")


class TestStages:
    def test_initial_stage_not_on_the_ladder(self, funnel):
        funnel.replace("nurture.yaml", "initial: cold", "initial: clod")
        problem = funnel.only_problem()
        assert at(problem) == ("nurture.yaml", 5, 12)
        assert problem.path == "stages.initial"
        assert "expected a stage of the ladder: cold, warm, mql, sql, customer" in problem.message
        assert problem.hint == "cold"

    def test_initial_stage_may_not_be_a_side_stage(self, funnel):
        funnel.replace("nurture.yaml", "initial: cold", "initial: recycled")
        problem = funnel.only_problem()
        assert at(problem) == ("nurture.yaml", 5, 12)
        assert problem.message.startswith("found 'recycled'; expected a stage of the ladder")

    def test_duplicate_stage_names(self, funnel):
        funnel.replace("nurture.yaml", "side: [recycled, disqualified]", "side: [recycled, warm]")
        problem = funnel.only_problem()
        assert at(problem) == ("nurture.yaml", 4, 20)
        assert problem.path == "stages.side[1]"
        assert problem.message == "found 'warm'; expected each stage once (first at line 3)"

    def test_empty_ladder(self, funnel):
        funnel.replace("nurture.yaml", "ladder: [cold, warm, mql, sql, customer]", "ladder: []")
        problem = funnel.only_problem()
        assert at(problem) == ("nurture.yaml", 3, 11)
        assert "found an empty list; expected a list of stage names" in problem.message


class TestSequencesByStage:
    def test_key_that_is_not_a_stage(self, funnel):
        funnel.replace("nurture.yaml", "  cold: cold-basic", "  colt: cold-basic")
        problem = funnel.only_problem()
        assert at(problem) == ("nurture.yaml", 7, 3)
        assert problem.path == "sequences.colt"
        assert problem.message.startswith("found stage 'colt'; expected a stage: cold, warm")
        assert problem.hint == "cold"

    def test_unknown_sequence_id(self, funnel):
        funnel.replace("nurture.yaml", "  cold: cold-basic", "  cold: cold-basc")
        problem = funnel.only_problem()
        assert at(problem) == ("nurture.yaml", 7, 9)
        assert problem.message == (
            "found 'cold-basc'; expected a sequence id from sequences/*.yaml: cold-basic"
        )
        assert problem.hint == "cold-basic"

    def test_sequence_that_does_not_serve_the_stage(self, funnel):
        funnel.replace("nurture.yaml", "  cold: cold-basic", "  warm: cold-basic")
        problem = funnel.only_problem()
        assert at(problem) == ("nurture.yaml", 7, 9)
        assert problem.message == (
            "found 'cold-basic', which serves cold; expected a sequence that lists 'warm' "
            "in its stages (sequences/cold-basic.yaml:1:5)"
        )

    def test_a_stage_may_run_no_sequence(self, funnel):
        funnel.replace("nurture.yaml", "  cold: cold-basic", "  cold:")
        assert funnel.problems() == []


class TestReengagement:
    def test_unknown_sequence(self, funnel):
        funnel.replace(
            "nurture.yaml",
            "sender:\n",
            "reengagement:\n  sequence: sunset\n  inactive_for: 90d\nsender:\n",
        )
        problem = funnel.only_problem()
        assert at(problem) == ("nurture.yaml", 9, 13)
        assert problem.path == "reengagement.sequence"
        assert "expected a sequence id from sequences/*.yaml" in problem.message

    def test_known_sequence_is_accepted(self, funnel):
        funnel.replace(
            "nurture.yaml",
            "sender:\n",
            "reengagement:\n  sequence: cold-basic\n  inactive_for: 90d\nsender:\n",
        )
        assert funnel.problems() == []

    def test_bad_inactive_for(self, funnel):
        funnel.replace(
            "nurture.yaml",
            "sender:\n",
            "reengagement:\n  sequence: cold-basic\n  inactive_for: 3 months\nsender:\n",
        )
        problem = funnel.only_problem()
        assert at(problem) == ("nurture.yaml", 10, 17)
        assert "found '3 months'; expected a duration such as 30m" in problem.message


class TestSender:
    def test_from_is_not_an_address(self, funnel):
        funnel.replace("nurture.yaml", '"Maya Chen <maya@example.com>"', '"Maya Chen"')
        problem = funnel.only_problem()
        assert at(problem) == ("nurture.yaml", 9, 9)
        assert problem.message.startswith("found 'Maya Chen'; expected an address such as")

    def test_reply_to_is_not_an_address(self, funnel):
        funnel.replace("nurture.yaml", "reply_to: hello@example.com", "reply_to: hello")
        problem = funnel.only_problem()
        assert at(problem) == ("nurture.yaml", 10, 13)
        assert problem.message == (
            "found 'hello'; expected an email address such as hello@example.com"
        )

    def test_missing_postal_address(self, funnel):
        funnel.replace("nurture.yaml", '  postal_address: "1 Main St, Springfield"\n', "")
        problem = funnel.only_problem()
        assert at(problem) == ("nurture.yaml", 8, 1)
        assert problem.message == "missing key 'postal_address'"


class TestSendWindow:
    def test_day_that_is_not_mon_to_sun(self, funnel):
        funnel.replace("nurture.yaml", "[mon, tue,", "[mon, tuesday,")
        problem = funnel.only_problem()
        assert at(problem) == ("nurture.yaml", 13, 15)
        assert problem.path == "send_window.days[1]"
        assert problem.hint == "tue"

    def test_hours_not_in_hh_mm_form(self, funnel):
        funnel.replace("nurture.yaml", '"09:00-17:00"', '"9am-5pm"')
        problem = funnel.only_problem()
        assert at(problem) == ("nurture.yaml", 14, 10)
        assert problem.message == (
            'found \'9am-5pm\'; expected hours such as "09:00-17:00", or "00:00-24:00" '
            "for the whole day (start before end, both HH:MM)"
        )

    def test_hours_that_end_before_they_start(self, funnel):
        funnel.replace("nurture.yaml", '"09:00-17:00"', '"17:00-09:00"')
        problem = funnel.only_problem()
        assert at(problem) == ("nurture.yaml", 14, 10)
        assert "start before end" in problem.message

    def test_24_00_ends_the_window_at_midnight(self, funnel):
        funnel.replace("nurture.yaml", '"09:00-17:00"', '"00:00-24:00"')
        assert funnel.problems() == []
        window = load_funnel(funnel.path).send_window
        assert (window.start, window.end) == (time(0), time.max)

    def test_24_00_is_only_an_end(self, funnel):
        funnel.replace("nurture.yaml", '"09:00-17:00"', '"24:00-24:00"')
        problem = funnel.only_problem()
        assert at(problem) == ("nurture.yaml", 14, 10)
        assert "00:00-24:00" in problem.message

    def test_24_30_is_not_a_time(self, funnel):
        funnel.replace("nurture.yaml", '"09:00-17:00"', '"09:00-24:30"')
        assert at(funnel.only_problem()) == ("nurture.yaml", 14, 10)


class TestFrequencyCap:
    def test_max_below_one(self, funnel):
        funnel.replace("nurture.yaml", "max: 3", "max: 0")
        problem = funnel.only_problem()
        assert at(problem) == ("nurture.yaml", 16, 8)
        assert problem.message == "found 0; expected a whole number of emails, at least 1"

    def test_bad_duration(self, funnel):
        funnel.replace("nurture.yaml", "per: 7d", "per: 2 days")
        problem = funnel.only_problem()
        assert problem.format() == (
            "nurture.yaml:17:8: error: frequency_cap.per: found '2 days'; "
            "expected a duration such as 30m, 4h, 2d, 1w or 1d12h"
        )


class TestSampleLead:
    def test_email_is_required(self, funnel):
        funnel.replace("nurture.yaml", "  email: jordan@example.com\n", "")
        problem = funnel.only_problem()
        assert at(problem) == ("nurture.yaml", 18, 1)
        assert (problem.path, problem.message) == ("sample_lead", "missing key 'email'")

    def test_time_zone_must_be_an_iana_zone(self, funnel):
        funnel.replace("nurture.yaml", "America/Chicago", "America/Chicgo")
        problem = funnel.only_problem()
        assert at(problem) == ("nurture.yaml", 21, 14)
        assert problem.hint == "America/Chicago"

    def test_unknown_field_suggests_the_right_one(self, funnel):
        funnel.replace("nurture.yaml", "  first_name: Jordan", "  frist_name: Jordan")
        problem = funnel.only_problem()
        assert at(problem) == ("nurture.yaml", 20, 3)
        assert problem.hint == "first_name"

    def test_stage_must_be_known(self, funnel):
        funnel.replace("nurture.yaml", "  first_name: Jordan", "  stage: wram")
        problem = funnel.only_problem()
        assert at(problem) == ("nurture.yaml", 20, 10)
        assert problem.hint == "warm"

    def test_attributes_must_be_a_mapping(self, funnel):
        funnel.replace("nurture.yaml", "{company_size: 240}", "[240]")
        problem = funnel.only_problem()
        assert at(problem) == ("nurture.yaml", 22, 15)
        assert problem.message.startswith("found a list; expected a mapping of custom attributes")


class TestLaterSections:
    def test_scoring_must_be_a_mapping(self, funnel):
        funnel.replace("nurture.yaml", "scoring: {}", "scoring: []")
        problem = funnel.only_problem()
        assert at(problem) == ("nurture.yaml", 23, 10)
        assert problem.message.startswith("found an empty list; expected a mapping")

    def test_handoff_must_be_a_mapping(self, funnel):
        funnel.replace("nurture.yaml", "handoff: {}", "handoff: slack")
        problem = funnel.only_problem()
        assert at(problem) == ("nurture.yaml", 24, 10)
        assert problem.path == "handoff"

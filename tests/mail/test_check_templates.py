"""check_templates: what validation reports about a funnel's templates."""

from datetime import time, timedelta

from nurture.core.funnel import FrequencyCap, Funnel, Sender, SendWindow
from nurture.core.sequence import Exit, Send, Sequence, Step
from nurture.mail import TemplateFinding, check_templates

SENDER = Sender("maya@lumen.example", "Maya", None, "548 Market St, San Francisco")
PAGE = (
    "{% extends 'layouts/base.html' %}"
    "{% block content %}<p>Hi {{ lead.first_name }}</p>{% endblock %}"
)


def funnel_with(*sends: Send, sample_lead=None) -> Funnel:
    steps = [Step(f"s{i}", send) for i, send in enumerate(sends, 1)]
    sequence = Sequence(id="cold-seq", stages=("cold",), steps=(*steps, Step("done", Exit())))
    return Funnel(
        ladder=("cold", "warm"),
        side_stages=(),
        initial_stage="cold",
        stage_sequences={"cold": "cold-seq"},
        sequences={"cold-seq": sequence},
        sender=SENDER,
        send_window=SendWindow(frozenset(range(5)), time(9), time(17)),
        frequency_cap=FrequencyCap(3, timedelta(days=7)),
        sample_lead={"email": "jordan@northwind.example", "first_name": "Jordan"}
        if sample_lead is None
        else sample_lead,
    )


class TestCheckTemplates:
    def test_a_clean_funnel_has_no_findings(self, templates):
        templates.write("cold/hello.html", PAGE)

        assert check_templates(funnel_with(Send("cold/hello.html", "Hi")), templates.root) == []

    def test_a_broken_subject_is_a_subject_finding_with_a_hint(self, templates):
        templates.write("cold/hello.html", PAGE)
        funnel = funnel_with(Send("cold/hello.html", "Hi {{ lead.first_nme }}"))

        findings = check_templates(funnel, templates.root)

        assert findings == [
            TemplateFinding(
                sequence_id="cold-seq",
                step_id="s1",
                field="subject",
                message="lead has no field 'first_nme'",
                hint="first_name",
            )
        ]

    def test_a_broken_preheader_is_a_preheader_finding(self, templates):
        templates.write("cold/hello.html", PAGE)
        funnel = funnel_with(Send("cold/hello.html", "Hi", preheader="{{ email.subjct }}"))

        [finding] = check_templates(funnel, templates.root)

        assert (finding.field, finding.hint) == ("preheader", "subject")

    def test_a_missing_template_suggests_the_close_name(self, templates):
        templates.write("cold/hello.html", PAGE)
        funnel = funnel_with(Send("cold/helo.html", "Hi"))

        [finding] = check_templates(funnel, templates.root)

        assert finding.field == "template"
        assert finding.hint == "cold/hello.html"
        assert "'cold/helo.html' not found" in finding.message

    def test_a_template_error_message_starts_with_file_and_line(self, templates):
        templates.write("cold/hello.html", "<p>ok</p>\n<p>{{ lead.emali }}</p>")

        [finding] = check_templates(funnel_with(Send("cold/hello.html", "Hi")), templates.root)

        assert finding.message == "cold/hello.html:2: lead has no field 'emali'"
        assert finding.hint == "email"

    def test_every_broken_part_of_every_step_is_reported(self, templates):
        templates.write("cold/hello.html", "{{ nope }}")
        funnel = funnel_with(
            Send("cold/hello.html", "{{ nope }}"), Send("cold/missing.html", "Fine")
        )

        findings = check_templates(funnel, templates.root)

        assert [(f.step_id, f.field) for f in findings] == [
            ("s1", "subject"),
            ("s1", "template"),
            ("s2", "template"),
        ]

    def test_the_sample_lead_is_the_persona(self, templates):
        templates.write("cold/hello.html", "{{ lead.attributes.plan }}")
        funnel = funnel_with(
            Send("cold/hello.html", "Hi"),
            sample_lead={"email": "a@b.example", "attributes": {"plan": "pro"}},
        )

        assert check_templates(funnel, templates.root) == []

    def test_without_a_sample_lead_a_stock_persona_is_used(self, templates):
        templates.write("cold/hello.html", "{{ lead.first_name }} {{ lead.company }}")

        funnel = funnel_with(Send("cold/hello.html", "Hi"), sample_lead={})

        assert check_templates(funnel, templates.root) == []

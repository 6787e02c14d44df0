"""Renderer: strict and sandboxed Jinja, escaping, CSS inlining, footer, text part, errors."""

import pytest

from nurture.core.lead import LeadProfile
from nurture.core.sequence import Send
from nurture.errors import TemplateError
from nurture.mail import RenderError

CHILD = """\
{% extends "layouts/base.html" %}
{% block content %}
<p>Hi {{ lead | first_name_or("there") }},</p>
{% endblock %}
"""


class TestStrictUndefined:
    def test_a_typo_in_a_field_is_an_error_with_the_template_line_and_a_hint(self, render):
        body = (
            "{% extends 'layouts/base.html' %}\n{% block content %}\n<p>\n"
            "{{ lead.frist_name }}\n</p>{% endblock %}"
        )

        with pytest.raises(TemplateError) as caught:
            render(body)

        error = caught.value
        assert isinstance(error, RenderError)
        assert (error.template, error.line, error.part) == ("t.html", 4, "template")
        assert error.reason == "lead has no field 'frist_name'"
        assert error.hint == "first_name"
        assert str(error) == "t.html:4: lead has no field 'frist_name' (did you mean 'first_name'?)"

    def test_an_unknown_variable_suggests_the_close_one(self, render):
        with pytest.raises(RenderError) as caught:
            render("<p>one</p>\n<p>{{ leed.email }}</p>")

        assert caught.value.line == 2
        assert caught.value.reason == "'leed' is undefined"
        assert caught.value.hint == "lead"

    def test_a_missing_custom_attribute_names_lead_attributes(self, render):
        with pytest.raises(RenderError) as caught:
            render("{{ lead.attributes.compnay_size }}")

        assert caught.value.reason == "lead.attributes has no field 'compnay_size'"
        assert caught.value.hint == "company_size"

    def test_an_error_inside_a_partial_names_the_partial_and_its_line(self, render, templates):
        templates.write("partials/quote.html", "<blockquote>\n{{ lead.nickname }}\n</blockquote>")

        with pytest.raises(RenderError) as caught:
            render("<p>x</p>\n{% include 'partials/quote.html' %}")

        assert (caught.value.template, caught.value.line) == ("partials/quote.html", 2)
        assert "while rendering t.html" in caught.value.reason

    def test_reading_a_field_of_a_missing_account_says_to_guard_it(self, render):
        with pytest.raises(RenderError) as caught:
            render("{{ account.name }}")

        assert "cannot read 'name' of none" in caught.value.reason

    def test_a_custom_attribute_is_never_shadowed_by_our_own_names(self, render):
        lead = LeadProfile(email="x@example.com", attributes={"label": "VIP", "_label": "x"})

        email = render(
            "<p>{{ lead.attributes.label }}|{{ lead.attributes['label'] }}</p>", lead=lead
        )

        assert "<p>VIP|VIP</p>" in email.html

    def test_default_filter_covers_a_missing_attribute(self, render):
        email = render("<p>{{ lead.attributes.industry | default('your industry') }}</p>")

        assert "your industry" in email.html

    def test_a_blank_field_prints_nothing_rather_than_none(self, render):
        email = render("<p>Title: [{{ lead.title }}]</p>")

        assert "Title: []" in email.html


class TestSyntaxAndMissingTemplates:
    def test_a_syntax_error_names_the_line(self, render):
        with pytest.raises(RenderError) as caught:
            render("<p>ok</p>\n<p>ok</p>\n{% if lead.first_name %}<p>unclosed</p>")

        assert caught.value.template == "t.html"
        assert caught.value.line == 3
        assert caught.value.reason.startswith("syntax error:")

    def test_an_unknown_filter_suggests_the_close_filter(self, render):
        with pytest.raises(RenderError) as caught:
            render("{{ lead | frist_name_or('there') }}")

        assert caught.value.line == 1
        assert caught.value.hint == "first_name_or"

    def test_a_missing_template_names_it_and_suggests_the_close_name(self, templates, make_context):
        templates.write("cold/welcome.html", CHILD)
        renderer = templates.renderer()

        with pytest.raises(RenderError) as caught:
            renderer.render(Send("cold/welcom.html", "Hi"), make_context())

        assert caught.value.template == "cold/welcom.html"
        assert caught.value.line is None
        assert caught.value.hint == "cold/welcome.html"
        assert "not found" in str(caught.value)

    def test_a_missing_include_is_reported_at_the_including_line(self, render, templates):
        templates.write("partials/button.html", "<a>x</a>")

        with pytest.raises(RenderError) as caught:
            render("<p>x</p>\n{% include 'partials/buton.html' %}")

        assert (caught.value.template, caught.value.line) == ("t.html", 2)
        assert caught.value.hint == "partials/button.html"


class TestSandbox:
    @pytest.mark.parametrize(
        "expression",
        [
            "lead.__class__.__mro__",
            "lead.attributes.update({'x': 1})",
            "''.__class__.__subclasses__()",
        ],
    )
    def test_unsafe_access_is_refused(self, render, expression):
        with pytest.raises(RenderError) as caught:
            render(f"<p>{{{{ {expression} }}}}</p>")

        assert "not allowed" in caught.value.reason or "unsafe" in caught.value.reason


class TestEscaping:
    def test_lead_fields_are_escaped_in_html(self, render):
        lead = LeadProfile(email="x@example.com", first_name="<script>alert(1)</script>")

        email = render(CHILD, lead=lead)

        assert "<script>alert(1)</script>" not in email.html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in email.html

    def test_subject_and_text_part_are_not_escaped(self, render, templates):
        lead = LeadProfile(email="x@example.com", first_name="Ana & Bo", company="R&D <Labs>")
        templates.write("t.txt", "Hi {{ lead.first_name }} at {{ lead.company }}")

        email = render(CHILD, subject="For {{ lead.company }}", lead=lead)

        assert email.subject == "For R&D <Labs>"
        assert email.text.startswith("Hi Ana & Bo at R&D <Labs>")

    def test_subject_is_one_stripped_line(self, render):
        email = render(CHILD, subject="  Hello\n  {{ lead.first_name }}  ", preheader=" a\nb ")

        assert (email.subject, email.preheader) == ("Hello Jordan", "a b")


class TestSubjectAndPreheader:
    def test_a_broken_subject_is_a_subject_error_without_a_file_line(self, render):
        with pytest.raises(RenderError) as caught:
            render(CHILD, subject="Hi {{ lead.frist_name }}")

        assert caught.value.part == "subject"
        assert caught.value.template == "subject of step 'welcome'"
        assert caught.value.line is None
        assert caught.value.hint == "first_name"

    def test_the_body_sees_the_rendered_subject_and_preheader(self, render):
        body = "<title>{{ email.subject }}</title><p>{{ email.preheader }}</p>"

        email = render(
            body, subject="Hi {{ lead.first_name }}", preheader="For {{ email.subject }}"
        )

        assert "<title>Hi Jordan</title>" in email.html
        assert "For Hi Jordan" in email.html

    def test_context_variables_are_the_documented_ones(self, render):
        body = (
            "{{ sequence.id }}|{{ sequence.name }}|{{ step.id }}|{{ sender.from_name }}|"
            "{{ sender.reply_to }}|{{ lead.full_name }}|{{ lead.stage }}|{{ account is none }}"
        )

        email = render(body)

        assert "cold-education|Cold|welcome|Maya Chen|hello@lumen-analytics.example|" in email.html
        assert "Jordan Rivera|cold|True" in email.html


class TestCss:
    def test_style_rules_are_inlined_on_the_elements(self, render):
        email = render(CHILD + "{% block extra %}{% endblock %}")

        assert '<p style="color: #111111;">Hi Jordan,</p>' in email.html
        assert "<style>" not in email.html

    def test_media_queries_stay_in_a_style_block(self, templates, render):
        templates.write(
            "layouts/base.html",
            "<html><head><style>p { color: red; } @media (max-width: 600px) "
            "{ p { color: blue; } }</style></head><body>{% block content %}{% endblock %}"
            "{% include 'partials/footer.html' %}</body></html>",
        )

        email = render(CHILD)

        assert '<p style="color: red;">' in email.html
        assert "@media (max-width: 600px)" in email.html


class TestFooter:
    def test_a_template_without_an_unsubscribe_link_gets_the_footer_before_body_end(
        self, render, links
    ):
        email = render("<html><body><p>Just a note.</p></body></html>")

        assert email.html.count("Unsubscribe") == 1
        footer_at = email.html.index("Unsubscribe")
        assert email.html.index("Just a note.") < footer_at < email.html.index("</body>")
        assert "548 Market St" in email.html
        assert links.unsubscribe_url in email.text

    def test_a_layout_with_the_footer_keeps_a_single_footer(self, render, links):
        email = render(CHILD)

        assert email.html.count("Unsubscribe") == 1
        assert email.text.count(links.unsubscribe_url) == 1

    def test_an_unsubscribe_link_without_the_postal_address_still_gets_the_footer(self, render):
        email = render('<p>Bye? <a href="{{ links.unsubscribe_url }}">Unsubscribe</a></p>')

        assert "548 Market St" in email.html
        assert "548 Market St" in email.text

    def test_the_built_in_footer_stands_in_when_the_funnel_has_none(self, templates, render):
        (templates.root / "partials" / "footer.html").unlink()

        email = render("<p>No layout, no footer.</p>")

        assert "Unsubscribe" in email.html
        assert "548 Market St" in email.html
        assert "https://nurture.test/p/tok3n" in email.html

    def test_a_footer_partial_without_the_unsubscribe_link_is_an_error(self, templates, render):
        templates.write("partials/footer.html", "<p>{{ sender.postal_address }}</p>")

        with pytest.raises(RenderError) as caught:
            render("<p>Hello</p>")

        assert caught.value.template == "partials/footer.html"
        assert "links.unsubscribe_url" in caught.value.reason

    def test_a_written_text_part_without_the_link_gets_the_footer_text(self, render, templates):
        templates.write("t.txt", "Hi {{ lead.first_name }},\n\nPlain words.\n")

        email = render(CHILD)

        assert email.text.startswith("Hi Jordan,\n\nPlain words.\n\n")
        assert "Unsubscribe (https://nurture.test/u/tok3n?a=1&b=2)" in email.text
        assert "548 Market St" in email.text


class TestTextPart:
    def test_without_a_txt_twin_the_text_is_derived_from_the_html(self, render):
        email = render(
            CHILD.replace(
                "</p>\n{% endblock %}",
                '</p>\n<ul><li>One</li><li><a href="https://x.test/2">Two</a></li></ul>\n'
                "{% endblock %}",
            )
        )

        assert email.text.startswith("Hi Jordan,\n\n- One\n- Two (https://x.test/2)\n")

    def test_a_txt_twin_is_rendered_instead(self, render, templates):
        templates.write(
            "t.txt",
            "Plain {{ lead.first_name }}\n{{ links.unsubscribe_url }}\n{{ sender.postal_address }}",
        )

        email = render(CHILD)

        assert email.text == (
            "Plain Jordan\nhttps://nurture.test/u/tok3n?a=1&b=2\n"
            "Lumen Analytics Inc., 548 Market St #4410, San Francisco, CA 94104\n"
        )

    def test_a_typo_in_the_txt_twin_is_reported_in_that_file(self, render, templates):
        templates.write("t.txt", "line one\n{{ lead.frist_name }}")

        with pytest.raises(RenderError) as caught:
            render(CHILD)

        assert (caught.value.template, caught.value.line) == ("t.txt", 2)


class TestFilters:
    def test_first_name_or_falls_back_for_a_blank_name(self, render):
        email = render(CHILD, lead=LeadProfile(email="x@example.com", first_name="  "))

        assert "Hi there," in email.html

    def test_company_or_and_thousands(self, render):
        email = render("{{ lead | company_or('your team') }}|{{ 12500 | thousands }}")

        assert "Northwind Traders|12,500" in email.html

    def test_utm_tags_links_with_the_sequence_and_step(self, render):
        email = render("<a href=\"{{ 'https://l.test/g?utm_source=blog' | utm }}\">g</a>")

        assert (
            'href="https://l.test/g?utm_source=blog&amp;utm_medium=email'
            '&amp;utm_campaign=cold-education&amp;utm_content=welcome"'
        ) in email.html


class TestCheck:
    def test_check_reports_each_broken_part_on_its_own(self, templates, make_context):
        templates.write("t.html", "{{ lead.frist_name }}")
        send = Send("t.html", subject="{{ lead.emial }}", preheader="{% if %}")

        errors = templates.renderer().check(send, make_context())

        assert [(e.part, e.hint) for e in errors] == [
            ("subject", "email"),
            ("preheader", None),
            ("template", "first_name"),
        ]

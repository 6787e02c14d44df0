"""html_to_text: the derived text part of an email."""

from nurture.mail import html_to_text


class TestHtmlToText:
    def test_paragraphs_are_separated_by_a_blank_line_and_whitespace_collapsed(self):
        html = "<p>First   line\n   continues.</p>\n\n<p>Second.</p>"

        assert html_to_text(html) == "First line continues.\n\nSecond.\n"

    def test_links_read_text_then_url(self):
        html = '<p>Read <a href="https://l.test/guide?a=1&amp;b=2">the guide</a> today.</p>'

        assert html_to_text(html) == "Read the guide (https://l.test/guide?a=1&b=2) today.\n"

    def test_a_link_whose_text_is_its_url_is_printed_once(self):
        html = '<p><a href="https://l.test/">https://l.test/</a></p>'

        assert html_to_text(html) == "https://l.test/\n"

    def test_mailto_links_show_the_address_and_anchors_show_nothing(self):
        html = '<p><a href="mailto:hi@l.test">Write to us</a> or <a href="#top">go up</a></p>'

        assert html_to_text(html) == "Write to us (hi@l.test) or go up\n"

    def test_an_image_link_uses_the_alt_text(self):
        html = '<p><a href="https://l.test/"><img src="logo.png" alt="Lumen"></a></p>'

        assert html_to_text(html) == "Lumen (https://l.test/)\n"

    def test_unordered_lists_become_dashes_and_ordered_lists_numbers(self):
        html = "<ul><li>One</li><li>Two</li></ul><ol><li>First</li><li>Second</li></ol>"

        assert html_to_text(html) == "- One\n- Two\n\n1. First\n2. Second\n"

    def test_nested_lists_are_indented(self):
        html = "<ul><li>Fruit<ul><li>Apple</li><li>Pear</li></ul></li><li>Bread</li></ul>"

        assert html_to_text(html) == "- Fruit\n  - Apple\n  - Pear\n- Bread\n"

    def test_unclosed_list_items_still_split(self):
        assert html_to_text("<ul><li>One<li>Two</ul><p>After</p>") == "- One\n- Two\n\nAfter\n"

    def test_headings_are_underlined(self):
        html = "<h1>Title</h1><h2>Part</h2><h3>Small</h3><p>Body</p>"

        assert html_to_text(html) == "Title\n=====\n\nPart\n----\n\nSmall\n\nBody\n"

    def test_head_style_script_and_hidden_elements_are_dropped(self):
        html = (
            "<html><head><title>T</title><style>p { color: red; }</style></head><body>"
            '<span style="display: none; max-height: 0">Preheader</span>'
            "<script>alert(1)</script><div hidden>secret</div><p>Visible</p></body></html>"
        )

        assert html_to_text(html) == "Visible\n"

    def test_line_breaks_and_entities(self):
        html = "<p>Maya Chen<br>Lumen &amp; Co &mdash; &#8220;hi&#8221;</p>"

        assert html_to_text(html) == "Maya Chen\nLumen & Co — “hi”\n"

    def test_table_cells_go_on_their_own_lines(self):
        html = "<table><tr><td>18%</td><td>lower churn</td></tr><tr><td>Row two</td></tr></table>"

        assert html_to_text(html) == "18%\nlower churn\n\nRow two\n"

    def test_no_text_gives_an_empty_string(self):
        assert html_to_text("<html><head><style>p{}</style></head><body></body></html>") == ""


def test_an_xml_declaration_or_a_comment_does_not_stop_the_text():
    html = '<?xml version="1.0" encoding="utf-8"?><html><body><!-- hi --><p>Grüße</p></body></html>'

    assert html_to_text(html) == "Grüße\n"


def test_nothing_but_whitespace_or_a_comment_is_empty_text():
    assert html_to_text("   ") == ""
    assert html_to_text("<!-- only a comment -->") == ""

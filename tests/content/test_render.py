"""Markdown rendering: structure, callouts, loan blocks, glossary links, sanitizing."""

from __future__ import annotations

import re

import pytest

from courseware.content.render import GlossaryTerm, link_glossary, render_markdown

TERMS = (
    GlossaryTerm("微貸", "microloan", "小額貸款", "microloan"),
    GlossaryTerm("還款能力", "repayment capacity", "付得起分期的能力", "repayment-capacity"),
)


def test_tables_headings_and_toc():
    rendered = render_markdown("## 第一節\n\n文字\n\n### 小節\n\n| a | b |\n|---|---|\n| 1 | 2 |\n")
    assert '<table tabindex="0">' in rendered.html  # a wide table scrolls: reachable by keyboard
    assert [(t.level, t.title) for t in rendered.toc] == [(2, "第一節"), (3, "小節")]
    anchor = rendered.toc[0].anchor
    assert anchor and f'id="{anchor}"' in rendered.html


@pytest.mark.parametrize(
    ("word", "css"),
    [("注意", "callout-warning"), ("提示", "callout-tip"), ("範例", "callout-example")],
)
def test_callouts_hold_markdown(word: str, css: str):
    html = render_markdown(f"::: {word}\n第一段**粗體**\n\n- 清單\n:::\n\n之後的段落\n").html
    box = re.search(rf'<div class="callout {css}">(.*?)</div>', html, re.S)
    assert box, html
    assert f'<p class="callout-title">{word}</p>' in box.group(1)
    assert "<strong>粗體</strong>" in box.group(1) and "<li>清單</li>" in box.group(1)
    assert "之後的段落" not in box.group(1) and "之後的段落" in html


def test_fenced_code_is_kept_as_code():
    html = render_markdown("```\nx = <b>1</b>\n```\n").html
    assert "<pre><code>x = &lt;b&gt;1&lt;/b&gt;" in html


def test_loan_block_renders_computed_figures_inside_a_callout():
    text = "::: 範例\n```loan\namount: 1000\nrate: 3%\ntype: flat\nterm: 12\n```\n:::\n"
    html = render_markdown(text, locale="en").html
    assert 'class="callout callout-example"' in html
    assert 'data-out="installment">113.33<' in html
    assert 'data-out="emr">5.08%<' in html
    # The schedule has one row per month and ends at a zero balance.
    schedule = re.search(r'<table class="loan-schedule">.*?</table>', html, re.S).group(0)
    assert schedule.count("<tr>") == 13
    assert re.search(r"<td>12</td>.*?<td>0.00</td></tr></tbody>", schedule, re.S)


def test_declining_loan_block():
    html = render_markdown(
        "```loan\namount: 1000\nrate: 3%\ntype: declining\nterm: 12\n```\n", locale="en"
    ).html
    assert 'data-out="installment">100.46<' in html


def test_bad_loan_block_shows_an_error_not_a_crash():
    html = render_markdown(
        "```loan\namount: lots\nrate: 3%\ntype: weird\nterm: 12\n```\n", locale="en"
    ).html
    assert "loan-error" in html and "amount" in html and "type" in html


def test_glossary_links_first_occurrence_only_and_not_in_headings():
    html = render_markdown("## 微貸\n\n微貸與微貸。還款能力。\n", TERMS).html
    assert html.count('class="term"') == 2
    assert 'href="/glossary#microloan"' in html
    heading = re.search(r"<h2[^>]*>(.*?)</h2>", html).group(1)
    assert "term" not in heading


def test_glossary_links_skip_existing_links_and_code():
    html = link_glossary('<p><a href="/x">微貸</a> <code>微貸</code> 微貸</p>', TERMS)
    assert html.count('class="term"') == 1
    assert html.endswith('<a class="term" href="/glossary#microloan" title="小額貸款">微貸</a></p>')


XSS = [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    "[click](javascript:alert(1))",
    '<a href="javascript:alert(1)">x</a>',
    '<iframe src="https://evil.example"></iframe>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
    "<svg><script>alert(1)</script></svg>",
    '<div style="background:url(javascript:alert(1))">x</div>',
    '<p onclick="alert(1)">x</p>',
    "::: 注意\n<script>alert(1)</script>\n:::",
    '<object data="x.swf"></object>',
    '<form action="https://evil.example"><input name=a></form>',
]


@pytest.mark.parametrize("payload", XSS)
def test_hostile_markdown_is_neutralised(payload: str):
    html = render_markdown(payload).html.lower()
    for bad in (
        "<script",
        "onerror",
        "onclick",
        "javascript:",
        "<iframe",
        "data:text",
        "<object",
        "style=",
        "<form",
        "<svg",
        "<input",
    ):
        assert bad not in html, (bad, html)


def test_the_loan_block_speaks_the_reader_s_language() -> None:
    # Its labels were gettext calls inside f-strings, which Babel does not extract.
    from courseware.content.loanblock import parse_loan_spec
    from courseware.content.loanwidget import render_loan_widget
    from courseware.core.translate import translator

    spec, errors = parse_loan_spec("amount: 60000\nrate: 1.2%\ntype: declining\nterm: 12")
    assert spec is not None and not errors
    html = render_loan_widget(spec, [], translator("zh_Hant"), "zh_Hant")
    assert "攤還明細表" in html and "試算其他條件" in html
    assert "Amortisation schedule" not in html and "Try other terms" not in html
    broken, problems = parse_loan_spec("amount: lots\nrate: 1.2%\ntype: declining\nterm: 12")
    assert broken is None
    assert "這個貸款範例有錯誤" in render_loan_widget(
        None, problems, translator("zh_Hant"), "zh_Hant"
    )

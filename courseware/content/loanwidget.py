"""HTML for a loan block: figures, schedule and a calculator, built from numbers.

This HTML is added after sanitizing, so every piece of text in it is escaped
here and every number is formatted by Babel for the reader's locale.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from html import escape

from babel.numbers import format_decimal, format_percent

from courseware.content.loanblock import LoanBlockError, LoanSpec
from courseware.lending.arithmetic import loan_summary


def _money(value: float, locale: str) -> str:
    return format_decimal(round(value, 2), format="#,##0.00", locale=locale)


def _pct(value: float, locale: str) -> str:
    return format_percent(value, format="#,##0.00%", locale=locale)


def _message(gettext: Callable[[str], str], message: str, params: dict) -> str:
    text = gettext(message)
    return text % params if params else text


def render_loan_widget(
    spec: LoanSpec | None,
    errors: Sequence[LoanBlockError],
    gettext: Callable[[str], str],
    locale: str,
) -> str:
    _ = gettext
    if spec is None:
        items = "".join(
            f"<li>{escape(e.field or '-')}: {escape(_message(_, e.message, e.params))}</li>"
            for e in errors
        )
        # gettext calls stay outside the f-strings: Babel does not look inside them
        heading = escape(_("This loan example has an error:"))
        return (
            f'<div class="loan-block loan-error" role="note"><p><strong>'
            f"{heading}</strong></p><ul>{items}</ul></div>"
        )
    s = loan_summary(spec.amount, spec.monthly_rate, spec.term, spec.rate_type, spec.fee_rate)
    type_label = _("declining balance") if spec.rate_type == "declining" else _("flat rate")
    title = escape(spec.title) if spec.title else escape(_("Loan example"))
    facts = [
        (_("Amount"), _money(s.amount, locale)),
        (_("Monthly rate"), f"{_pct(s.monthly_rate, locale)} ({escape(type_label)})"),
        (_("Term"), escape(_("%(n)s months") % {"n": s.term})),
        (_("Upfront fee"), _money(s.fee, locale)),
        (_("Monthly installment"), _money(s.installment, locale)),
        (_("Total interest"), _money(s.total_interest, locale)),
        (_("Effective monthly rate"), _pct(s.effective_monthly_rate, locale)),
        (_("APR (12 x monthly)"), _pct(s.apr, locale)),
        (_("Effective annual rate"), _pct(s.effective_annual_rate, locale)),
    ]
    rows = "".join(
        f'<tr><th scope="row">{escape(label)}</th><td data-out="{key}">{value}</td></tr>'
        for (label, value), key in zip(
            facts,
            ["amount", "rate", "term", "fee", "installment", "interest", "emr", "apr", "ear"],
            strict=True,
        )
    )
    schedule_rows = "".join(
        f"<tr><td>{r.month}</td>"
        + "".join(f"<td>{_money(v, locale)}</td>" for v in (r.payment, r.interest, r.principal))
        + f"<td>{_money(r.balance, locale)}</td></tr>"
        for r in s.schedule
    )
    head = "".join(
        f'<th scope="col">{escape(h)}</th>'
        for h in (_("Month"), _("Payment"), _("Interest"), _("Principal"), _("Balance"))
    )
    data = (
        f'data-amount="{spec.amount:g}" data-rate="{spec.monthly_rate * 100:g}" '
        f'data-type="{spec.rate_type}" data-term="{spec.term}" data-fee="{spec.fee_rate * 100:g}"'
    )
    calc_labels = {
        "amount": _("Amount"),
        "rate": _("Monthly rate (%)"),
        "term": _("Term (months)"),
        "fee": _("Upfront fee (%)"),
    }
    inputs = "".join(
        f'<label>{escape(text)} <input type="number" inputmode="decimal" step="any" min="0" '
        f'name="{name}"></label>'
        for name, text in calc_labels.items()
    )
    schedule_label = escape(_("Amortisation schedule"))
    calc_label = escape(_("Try other terms"))
    return (
        f'<figure class="loan-block" {data}>'
        f"<figcaption>{title}</figcaption>"
        f'<div class="table-wrap"><table class="loan-facts"><tbody>{rows}</tbody></table></div>'
        f"<details><summary>{schedule_label}</summary>"
        f'<div class="table-wrap"><table class="loan-schedule"><thead><tr>{head}</tr></thead>'
        f"<tbody>{schedule_rows}</tbody></table></div></details>"
        f'<div class="loan-calc" hidden>'
        f'<p class="loan-calc-title">{calc_label}</p>'
        f"{inputs}</div>"
        f"</figure>"
    )

"""The loan path chart: an empty days-past-due panel says why it is empty."""

from __future__ import annotations

from courseware.web.common.charts import ChartText, path_chart

TEXT = ChartText("標題", "說明", "應繳與已繳", "家庭現金", "逾期天數", "月份", "從未逾期")


def _chart(dpd: list[int]) -> str:
    months = len(dpd)
    return str(
        path_chart([1000.0] * months, [100.0] * months, [100.0] * months, dpd, [], TEXT, str)
    )


def test_a_loan_never_late_says_so_in_its_empty_panel():
    chart = _chart([0, 0, 0, 0])
    assert "從未逾期" in chart and 'class="chart-dpd"' not in chart


def test_a_loan_once_late_draws_its_days_and_no_such_note():
    chart = _chart([0, 31, 0, 0])
    assert "從未逾期" not in chart and chart.count('class="chart-dpd"') == 1

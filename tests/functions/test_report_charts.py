"""The report's SVG charts: nice ticks, labels inside the viewBox and clear of each other, a
legend, colour never alone, text alternatives, deterministic output."""

from __future__ import annotations

import math
import re
from html.parser import HTMLParser

import charts
import pytest
from report_documents import HOSTILE, point, trend_points


class Svg(HTMLParser):
    """The parts of an SVG the tests look at: its viewBox, texts (with position and anchor),
    elements by tag and the legend's texts."""

    def __init__(self, text):
        super().__init__()
        self.view_box, self.texts, self.tags, self.legend = None, [], [], []
        self._text, self._in_legend, self._titles = None, False, {"title": [], "desc": []}
        self._current = None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        self.tags.append((tag, attributes))
        if tag == "svg":
            self.view_box = [float(v) for v in attributes["viewbox"].split()]
        if tag == "g" and attributes.get("class") == "legend":
            self._in_legend = True
        if tag == "text":
            self._text = {**attributes, "content": ""}
        if tag in self._titles:
            self._current = tag

    def handle_endtag(self, tag):
        if tag == "text":
            self.texts.append(self._text)
            if self._in_legend:
                self.legend.append(self._text["content"])
            self._text = None
        if tag == "g":
            self._in_legend = False
        self._current = None

    def handle_data(self, data):
        if self._text is not None:
            self._text["content"] += data
        if self._current:
            self._titles[self._current].append(data)

    @property
    def title(self):
        return "".join(self._titles["title"])

    @property
    def desc(self):
        return "".join(self._titles["desc"])


def box(text):
    """A label's box from the charts' own width estimate: ascent 0.8 em, descent 0.25 em."""
    width = charts.text_width(text["content"])
    x, y = float(text["x"]), float(text["y"])
    left = {"start": x, "end": x - width}.get(text.get("text-anchor", "start"), x - width / 2)
    return left, y - 0.8 * charts.FONT_SIZE, left + width, y + 0.25 * charts.FONT_SIZE


def assert_labels_fit(svg):
    _, _, width, height = svg.view_box
    boxes = [box(t) for t in svg.texts]
    for text, (left, top, right, bottom) in zip(svg.texts, boxes, strict=True):
        assert left >= 0 and right <= width, text
        assert top >= 0 and bottom <= height, text
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            overlap = a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]
            assert not overlap, (a, b)


def y_ticks(svg):
    return [t for t in svg.texts if t.get("text-anchor") == "end" and t not in x_labels(svg)]


def x_labels(svg):
    bottom = max(float(t["y"]) for t in svg.texts)
    return [t for t in svg.texts if float(t["y"]) == bottom]


@pytest.mark.parametrize(
    ("low", "high", "expected"),
    [
        (0, 76_188, [0, 20_000, 40_000, 60_000, 80_000]),
        (0, 1, [0, 0.5, 1]),
        (0, 7, [0, 2, 4, 6, 8]),
        (0, 100, [0, 50, 100]),
        (93.41, 95.2, [93.0, 93.5, 94.0, 94.5, 95.0, 95.5]),
        (99, 100, [99.0, 99.5, 100.0]),
    ],
)
def test_ticks_are_nice_and_cover_the_range(low, high, expected):
    ticks = charts.nice_ticks(low, high)
    assert ticks == expected
    assert ticks[0] <= low and ticks[-1] >= high
    step = ticks[1] - ticks[0]
    mantissa = round(step / 10 ** math.floor(math.log10(step)), 6)
    assert mantissa in (1, 2, 5)


def test_ticks_refuse_an_inverted_range():
    with pytest.raises(ValueError, match=r"high 1 is below low 2; allowed: high >= low"):
        charts.nice_ticks(2, 1)


def test_the_trend_shows_a_peak_of_76188_whole_with_its_axis_inside_the_chart():
    points = trend_points()
    svg = Svg(charts.trend_chart(points))
    ticks = [t["content"] for t in svg.texts if t.get("text-anchor") == "end"][:5]
    assert ticks == ["0", "20,000", "40,000", "60,000", "80,000"]
    assert_labels_fit(svg)
    # The plot's left edge sits right of the widest tick label.
    axis = next(a for tag, a in svg.tags if tag == "line" and a["x1"] == a["x2"])
    assert float(axis["x1"]) > charts.text_width("80,000") + charts.TICK
    assert max(p["compliant"] for p in points) == 76_188


def test_every_label_of_30_runs_fits_and_the_ends_are_anchored_inside():
    points = trend_points()
    svg = Svg(charts.trend_chart(points))
    labels = x_labels(svg)
    assert points[0]["runId"].startswith("2026-11-03")
    assert labels[0]["content"] == "2026-11-03" and labels[0]["text-anchor"] == "start"
    assert labels[-1]["content"] == "2026-12-02" and labels[-1]["text-anchor"] == "end"
    assert len(labels) >= 4  # more than the two ends fit at 30 runs
    assert_labels_fit(svg)


@pytest.mark.parametrize("count", [1, 2, 3, 7, 30])
def test_labels_fit_at_any_number_of_runs(count):
    points = trend_points(count=count)
    for chart in (charts.trend_chart(points), charts.score_chart(points)):
        assert_labels_fit(Svg(chart))


def test_the_legend_names_every_series_and_each_has_its_own_marker_and_dash():
    with_exempt = Svg(charts.trend_chart(trend_points()))
    assert with_exempt.legend == ["Compliant", "Non-compliant", "Exempt"]
    without = Svg(charts.trend_chart([point(1, 5, 2), point(2, 6, 1)]))
    assert without.legend == ["Compliant", "Non-compliant"]
    lines = [a for tag, a in with_exempt.tags if tag == "polyline"]
    assert {(a["stroke"], a.get("stroke-dasharray", "")) for a in lines} == {
        (charts.BLUE, ""),
        (charts.VERMILLION, "6 3"),
        (charts.ORANGE, "2 3"),
    }
    markers = {tag for tag, a in with_exempt.tags if tag in ("circle", "rect", "polygon")}
    assert markers == {"circle", "rect", "polygon"}


def test_each_chart_has_a_title_and_a_description_and_scales_to_its_box():
    for chart in (charts.trend_chart(trend_points()), charts.score_chart(trend_points())):
        svg = Svg(chart)
        assert svg.title and svg.desc
        attributes = svg.tags[0][1]
        assert attributes["width"] == "100%" and attributes["class"] == "chart"
        assert "height" not in attributes and attributes["role"] == "img"


def test_the_score_axis_fits_the_scores_and_stays_within_0_to_100():
    svg = Svg(charts.score_chart(trend_points()))
    ticks = [t["content"] for t in y_ticks(svg)]
    assert ticks[0] == "85%" and ticks[-1] == "100%"
    assert svg.legend == ["Score (% compliant)"]
    assert_labels_fit(svg)


def test_a_run_without_a_score_breaks_the_line_and_no_score_at_all_draws_0_to_100():
    points = [point(1, 5, 5), point(2, 0, 0), point(3, 6, 4), point(4, 7, 3)]
    svg = Svg(charts.score_chart(points))
    lines = [a["points"].split() for tag, a in svg.tags if tag == "polyline"]
    assert [len(line) for line in lines] == [2]  # run 1 alone (no line), runs 3-4 joined
    assert len([tag for tag, _ in svg.tags if tag == "polygon"]) == 1 + 3  # legend + 3 scores
    empty = Svg(charts.score_chart([point(1, 0, 0), point(2, 0, 0)]))
    assert [t["content"] for t in y_ticks(empty)] == ["0%", "50%", "100%"]
    assert "no run has a score" in empty.desc


def test_a_single_equal_score_gets_a_range_around_it():
    svg = Svg(charts.score_chart([point(1, 1, 0)]))
    assert [t["content"] for t in y_ticks(svg)] == ["99.0%", "99.5%", "100.0%"]
    assert_labels_fit(svg)


def test_labels_are_escaped():
    chart = charts.line_chart(
        HOSTILE,
        HOSTILE,
        [HOSTILE, "b"],
        [charts.Series(HOSTILE, charts.BLUE, "", "circle", [1, 2])],
        [0, 1, 2],
        charts.count_label,
    )
    assert "<script" not in chart and "<img" not in chart and "&lt;script&gt;" in chart


def test_bad_input_is_named():
    series = charts.Series("a", charts.BLUE, "", "circle", [1])
    with pytest.raises(ValueError, match=r"2 labels and series of \[1\] values; allowed"):
        charts.line_chart("t", "d", ["a", "b"], [series], [0, 1], charts.count_label)
    star = charts.Series("a", charts.BLUE, "", "star", [1])
    with pytest.raises(ValueError, match=r"marker is 'star'; allowed: circle, square"):
        charts.line_chart("t", "d", ["a"], [star], [0, 1], charts.count_label)


def test_a_bar_splits_its_width_by_share_and_is_grey_when_empty():
    svg = Svg(charts.bar(3, 1, "r: 3 compliant, 1 non-compliant"))
    rects = [a for tag, a in svg.tags if tag == "rect"]
    assert [(r["fill"], r["width"]) for r in rects[:2]] == [
        (charts.BLUE, "75.00"),
        (charts.VERMILLION, "25.00"),
    ]
    assert svg.title == "r: 3 compliant, 1 non-compliant"
    assert svg.tags[0][1]["width"] == "100%" and svg.view_box == [0, 0, 100, 10]
    empty = [a for tag, a in Svg(charts.bar(0, 0, "none")).tags if tag == "rect"]
    assert [r["fill"] for r in empty] == [charts.GREY]
    assert [a["fill"] for tag, a in Svg(charts.bar(4, 0, "x")).tags if tag == "rect"] == [
        charts.BLUE
    ]


def test_charts_are_deterministic():
    assert charts.trend_chart(trend_points()) == charts.trend_chart(trend_points())
    assert charts.score_chart(trend_points()) == charts.score_chart(trend_points())


def test_the_width_estimate_errs_wide_for_digits_and_separators():
    # DejaVu Sans, the widest usual fallback: digits 0.636 em, comma 0.318 em.
    assert charts.text_width("76,188") >= charts.FONT_SIZE * (5 * 0.636 + 0.318)
    assert re.fullmatch(r"\d{1,3}(,\d{3})*", charts.count_label(76_188))

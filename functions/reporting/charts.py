"""The report's SVG charts: the trend of counts, the score over time and the score bars.

Pure functions returning SVG text. Every chart draws in its own viewBox and is shown at the
width of its container (``width="100%"``), so it scales to a phone or an A4 page; every label is
placed from an estimate of its width that errs wide, so no label leaves the viewBox or runs
into another. Colours are Okabe-Ito (safe for the common colour-vision deficiencies) and never
carry meaning alone: each series has its own marker and dash pattern, the legend names them and
the page prints the same numbers as a table.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape
from typing import Any

BLUE, VERMILLION, ORANGE, BLACK, GREY = "#0072B2", "#D55E00", "#E69F00", "#000000", "#555555"
FONT_SIZE = 12
WIDTH, HEIGHT = 720, 260
LEGEND_Y = 14
PLOT_TOP = 34
AXIS_GAP = 22  # between the x axis and the baseline of its labels
TICK = 4
# Advance widths in em, rounded up from DejaVu Sans (the widest common sans-serif fallback):
# an estimate that errs wide keeps the real label inside the space reserved for it.
_EM = {**dict.fromkeys("0123456789", 0.64), ",": 0.32, ".": 0.32, "-": 0.37, " ": 0.32, "%": 0.95}
_WIDE = set("mwMW")


def text_width(text: str, size: float = FONT_SIZE) -> float:
    """The width ``text`` needs at ``size``, an overestimate for the usual sans-serif fonts."""
    return size * sum(_EM.get(ch, 1.0 if ch in _WIDE else 0.72) for ch in text)


def nice_ticks(low: float, high: float, target: int = 5) -> list[float]:
    """Ticks covering [low, high] at a step of 1, 2 or 5 x 10^k, about ``target`` of them."""
    if high < low:
        raise ValueError(f"nice_ticks: high {high!r} is below low {low!r}; allowed: high >= low")
    span = high - low or max(abs(high), 1)
    raw = span / max(1, target - 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    digits = max(0, -math.floor(math.log10(step)))
    first, last = math.floor(low / step), math.ceil(high / step)
    if first == last:
        last += 1
    return [round(i * step, digits) for i in range(first, last + 1)]


def count_label(value: float) -> str:
    return f"{round(value):,}"


def percent_label(step: float) -> Callable[[float], str]:
    digits = max(0, -math.floor(math.log10(step))) if step < 1 else 0
    return lambda value: f"{value:.{digits}f}%"


@dataclass(frozen=True)
class Series:
    name: str
    colour: str
    dash: str  # stroke-dasharray, "" for a solid line
    marker: str  # circle, square, triangle or diamond
    values: Sequence[float | None]  # None: no value for that run (a gap in the line)


def _marker(kind: str, x: float, y: float, colour: str) -> str:
    if kind == "circle":
        return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{colour}"/>'
    if kind == "square":
        return f'<rect x="{x - 3.5:.1f}" y="{y - 3.5:.1f}" width="7" height="7" fill="{colour}"/>'
    shapes = {
        "triangle": ((0, -4.5), (4.5, 3.5), (-4.5, 3.5)),
        "diamond": ((0, -4.5), (4.5, 0), (0, 4.5), (-4.5, 0)),
    }
    if kind not in shapes:
        raise ValueError(f"marker is {kind!r}; allowed: circle, square, triangle, diamond")
    corners = " ".join(f"{x + dx:.1f},{y + dy:.1f}" for dx, dy in shapes[kind])
    return f'<polygon points="{corners}" fill="{colour}"/>'


def _legend(series: Sequence[Series], left: float) -> str:
    parts, x = ['<g class="legend">'], left
    for item in series:
        dash = f' stroke-dasharray="{item.dash}"' if item.dash else ""
        parts += [
            f'<line x1="{x:.1f}" y1="{LEGEND_Y}" x2="{x + 24:.1f}" y2="{LEGEND_Y}" '
            f'stroke="{item.colour}" stroke-width="2"{dash}/>',
            _marker(item.marker, x + 12, LEGEND_Y, item.colour),
            f'<text x="{x + 30:.1f}" y="{LEGEND_Y + 4}">{escape(item.name)}</text>',
        ]
        x += 30 + text_width(item.name) + 18
    parts.append("</g>")
    return "".join(parts)


def legend_width(series: Sequence[Series]) -> float:
    return sum(30 + text_width(item.name) + 18 for item in series) - 18


def x_label_positions(xs: Sequence[float], labels: Sequence[str]) -> list[tuple[int, str, float]]:
    """(index, text-anchor, left edge) of the x labels to draw: the first anchored at its start,
    the last at its end (so neither leaves the plot), and as many between as fit without
    touching a neighbour."""
    if not xs:
        return []
    gap = 8.0

    def extent(index: int, anchor: str) -> tuple[float, float]:
        width = text_width(labels[index])
        start = {"start": xs[index], "end": xs[index] - width}.get(anchor, xs[index] - width / 2)
        return start, start + width

    if len(xs) == 1:
        return [(0, "middle", extent(0, "middle")[0])]
    chosen = [(0, "start"), (len(xs) - 1, "end")]
    spans = [extent(i, a) for i, a in chosen]
    if spans[0][1] + gap > spans[1][0]:
        chosen, spans = chosen[:1], spans[:1]
    for index in range(1, len(xs) - 1):
        left, right = extent(index, "middle")
        if all(right + gap <= a or left >= b + gap for a, b in spans):
            chosen.append((index, "middle"))
            spans.append((left, right))
    return sorted((i, a, extent(i, a)[0]) for i, a in chosen)


def line_chart(
    title: str,
    description: str,
    labels: Sequence[str],
    series: Sequence[Series],
    ticks: Sequence[float],
    tick_label: Callable[[float], str],
    css_class: str = "chart",
) -> str:
    """An SVG line chart: one x position per label, the y axis spanning ``ticks``."""
    if not labels or any(len(s.values) != len(labels) for s in series):
        raise ValueError(
            f"line_chart: {len(labels)} labels and series of "
            f"{[len(s.values) for s in series]} values; allowed: one value per label, >= 1 label"
        )
    texts = [tick_label(t) for t in ticks]
    left = math.ceil(max(text_width(t) for t in texts) + TICK + 6 + 4)
    right = WIDTH - 12
    bottom = HEIGHT - AXIS_GAP - 8
    low, high = ticks[0], ticks[-1]

    def y_of(value: float) -> float:
        return bottom - (bottom - PLOT_TOP) * (value - low) / (high - low)

    step = (right - left) / max(1, len(labels) - 1)
    xs = [left + i * step if len(labels) > 1 else (left + right) / 2 for i in range(len(labels))]
    parts = [
        f'<svg class="{css_class}" viewBox="0 0 {WIDTH} '
        f'{HEIGHT}" width="100%" role="img" font-size="{FONT_SIZE}">',
        f"<title>{escape(title)}</title><desc>{escape(description)}</desc>",
        _legend(series, left),
    ]
    for tick, text in zip(ticks, texts, strict=True):
        y = y_of(tick)
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{right}" y2="{y:.1f}" stroke="#ddd"/>'
            f'<text x="{left - TICK - 4}" y="{y + 4:.1f}" text-anchor="end">{text}</text>'
        )
    parts.append(
        f'<line x1="{left}" y1="{bottom}" x2="{right}" y2="{bottom}" stroke="{GREY}"/>'
        f'<line x1="{left}" y1="{PLOT_TOP}" x2="{left}" y2="{bottom}" stroke="{GREY}"/>'
    )
    for index, anchor, _ in x_label_positions(xs, labels):
        parts.append(
            f'<line x1="{xs[index]:.1f}" y1="{bottom}" x2="{xs[index]:.1f}" '
            f'y2="{bottom + TICK}" stroke="{GREY}"/>'
            f'<text x="{xs[index]:.1f}" y="{bottom + AXIS_GAP}" text-anchor="{anchor}">'
            f"{escape(labels[index])}</text>"
        )
    for item in series:
        parts += _series(item, xs, y_of)
    parts.append("</svg>")
    return "".join(parts)


def _series(item: Series, xs: Sequence[float], y_of: Callable[[float], float]) -> list[str]:
    """A polyline per run of consecutive values (a missing value breaks the line) and a
    marker on every value."""
    dash = f' stroke-dasharray="{item.dash}"' if item.dash else ""
    runs: list[list[str]] = [[]]
    markers = []
    for x, value in zip(xs, item.values, strict=True):
        if value is None:
            runs.append([])
            continue
        y = y_of(value)
        runs[-1].append(f"{x:.1f},{y:.1f}")
        markers.append(_marker(item.marker, x, y, item.colour))
    lines = [
        f'<polyline fill="none" stroke="{item.colour}" stroke-width="2"{dash} '
        f'points="{" ".join(run)}"/>'
        for run in runs
        if len(run) > 1
    ]
    return [*lines, *markers]


def trend_chart(points: Sequence[dict[str, Any]]) -> str:
    """Compliant, non-compliant (and exempt, when any run had some) results per run."""
    exempt = [int(p.get("exempt") or 0) for p in points]
    series = [
        Series("Compliant", BLUE, "", "circle", [p["compliant"] for p in points]),
        Series("Non-compliant", VERMILLION, "6 3", "square", [p["nonCompliant"] for p in points]),
    ]
    if any(exempt):
        series.append(Series("Exempt", ORANGE, "2 3", "triangle", exempt))
    peak = max(max(s.values) for s in series)  # type: ignore[type-var]
    last = points[-1]
    description = (
        f"{len(points)} runs from {points[0]['runId']} to {last['runId']}; the latest has "
        f"{last['compliant']:,} compliant and {last['nonCompliant']:,} non-compliant results. "
        "The table below the charts lists every run."
    )
    return line_chart(
        "Compliant and non-compliant results per run",
        description,
        [p["runId"][:10] for p in points],
        series,
        nice_ticks(0, max(peak, 1)),
        count_label,
    )


def score_chart(points: Sequence[dict[str, Any]]) -> str:
    """The score per run on a range fitted to the scores (within 0-100 %)."""
    values = [p.get("score") for p in points]
    known = [v for v in values if v is not None]
    low, high = (min(known), max(known)) if known else (0, 100)
    if low == high:
        low, high = max(0, low - 1), min(100, high + 1)
    # 0 and 100 are multiples of every step nice_ticks picks for a span of at most 100, so
    # the ticks never leave 0-100.
    ticks = nice_ticks(low, high)
    latest = next((v for v in reversed(values) if v is not None), None)
    description = (
        f"Compliance score of {len(points)} runs from {points[0]['runId']} to "
        f"{points[-1]['runId']}; "
        + (f"the latest score is {latest:.2f}%." if latest is not None else "no run has a score.")
    )
    step = ticks[1] - ticks[0]
    return line_chart(
        "Compliance score per run",
        description,
        [p["runId"][:10] for p in points],
        [Series("Score (% compliant)", BLACK, "", "diamond", values)],
        ticks,
        percent_label(step),
    )


def bar(compliant: int, non_compliant: int, label: str) -> str:
    """A bar of the compliant (left, blue) and non-compliant (right, vermillion, hatched) share;
    grey when nothing was evaluated. Stretches to its cell; the numbers are beside it."""
    total = compliant + non_compliant
    share = 100 * compliant / total if total else 0
    parts = [
        '<svg class="bar" viewBox="0 0 100 10" '
        f'width="100%" height="10" preserveAspectRatio="none" role="img" '
        f'aria-label="{escape(label)}"><title>{escape(label)}</title>'
    ]
    if not total:
        parts.append(f'<rect x="0" y="0" width="100" height="10" fill="{GREY}" opacity="0.3"/>')
    else:
        parts.append(f'<rect x="0" y="0" width="{share:.2f}" height="10" fill="{BLUE}"/>')
        if non_compliant:
            # A white band in the middle of the red part: it reads as a second kind of bar
            # in greyscale and for readers who cannot tell blue from red.
            parts.append(
                f'<rect x="{share:.2f}" y="0" width="{100 - share:.2f}" height="10" '
                f'fill="{VERMILLION}"/><rect x="{share:.2f}" y="4" width="{100 - share:.2f}" '
                'height="2" fill="#ffffff"/>'
            )
    parts.append("</svg>")
    return "".join(parts)

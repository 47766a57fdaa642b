"""Bar charts drawn on the server as inline SVG: no JavaScript, no chart library, and
nothing the Content-Security-Policy refuses (colours come from classes in
static/css/app.css, never from style attributes).

Each chart is an ``<svg role="img">`` named by its ``<title>`` and described by its
``<desc>`` (``aria-labelledby`` both), so a screen reader announces one image with a
sentence; the page shows the same figures as a table beneath it
(templates/includes/chart.html), for screen readers and for printing."""

from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

WIDTH, HEIGHT = 720, 260
LEFT, RIGHT, TOP, BOTTOM = 52, 12, 12, 44
LABEL_CHARS = 14


@dataclass(frozen=True)
class Series:
    """One kind of bar: its name (legend and table heading), the class that colours
    it (``bar-in-use``, ``bar-free``, ...) and one value per category (None: no
    figure, drawn as nothing)."""

    label: str
    css: str
    values: Sequence[int | None]


def nice_ceiling(value: int) -> tuple[int, int]:
    """The top of the value axis and the step of its grid: a round number at or above
    ``value`` in 1, 2 or 5 times a power of ten, in about four steps."""
    if value <= 0:
        return 4, 1
    raw = value / 4
    magnitude = 10 ** (len(str(int(raw))) - 1) if raw >= 1 else 1
    for factor in (1, 2, 2.5, 5, 10):
        step = factor * magnitude
        if step != int(step):
            continue
        step = int(step)
        if step * 4 >= value:
            return step * 4, step
    return value, max(1, value // 4)  # not reached: factor 10 always fits


def _n(number: float) -> str:
    return f"{number:.1f}"


def _short(label: str) -> str:
    return label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1] + "…"


def bar_chart(
    *,
    chart_id: str,
    title: str,
    description: str,
    categories: Sequence[str],
    series: Sequence[Series],
    stacked: bool = False,
    label_every: int = 1,
) -> SafeString:
    """A vertical bar chart of ``series`` over ``categories``: side by side, or one
    stacked on the other. Every ``label_every``-th category is named under its bars;
    each bar's own ``<title>`` gives its category, series and figure."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    count = max(len(categories), 1)
    if stacked:
        peak = max((sum(s.values[i] or 0 for s in series) for i in range(len(categories))), default=0)
    else:
        peak = max((v or 0 for s in series for v in s.values), default=0)
    top, step = nice_ceiling(peak)

    def y(value) -> str:
        return _n(TOP + plot_h - plot_h * value / top)

    grid = []
    for tick in range(0, top + 1, step):
        grid.append(
            format_html(
                '<line class="chart-grid" x1="{}" x2="{}" y1="{}" y2="{}"/>'
                '<text class="chart-axis" x="{}" y="{}" text-anchor="end" dominant-baseline="middle">{}</text>',
                LEFT,
                WIDTH - RIGHT,
                y(tick),
                y(tick),
                LEFT - 6,
                y(tick),
                f"{tick:,}",
            )
        )

    slot = plot_w / count
    bar_w = slot * 0.72 / (1 if stacked else max(len(series), 1))
    bars, labels = [], []
    for i, category in enumerate(categories):
        x0 = LEFT + slot * i + slot * 0.14
        base = 0
        for n, s in enumerate(series):
            value = s.values[i]
            if value is None:
                continue
            bottom = base if stacked else 0
            x = x0 if stacked else x0 + n * bar_w
            height = plot_h * value / top
            bars.append(
                format_html(
                    '<rect class="{}" x="{}" y="{}" width="{}" height="{}"><title>{}: {} {}</title></rect>',
                    s.css,
                    _n(x),
                    y(bottom + value),
                    _n(max(bar_w - 1, 1)),
                    _n(height),
                    category,
                    f"{value:,}",
                    s.label.lower(),
                )
            )
            if stacked:
                base += value
        if i % label_every == 0:
            labels.append(
                format_html(
                    '<text class="chart-axis" x="{}" y="{}" text-anchor="middle">{}</text>',
                    _n(LEFT + slot * (i + 0.5)),
                    HEIGHT - BOTTOM + 16,
                    _short(category),
                )
            )
    return format_html(
        '<svg class="chart-svg" viewBox="0 0 {} {}" role="img" aria-labelledby="{}-title {}-desc" '
        'xmlns="http://www.w3.org/2000/svg"><title id="{}-title">{}</title><desc id="{}-desc">{}</desc>'
        '<g aria-hidden="true">{}<line class="chart-baseline" x1="{}" x2="{}" y1="{}" y2="{}"/>{}{}</g></svg>',
        WIDTH,
        HEIGHT,
        chart_id,
        chart_id,
        chart_id,
        title,
        chart_id,
        description,
        format_html_join("", "{}", ((g,) for g in grid)),
        LEFT,
        WIDTH - RIGHT,
        TOP + plot_h,
        TOP + plot_h,
        format_html_join("", "{}", ((b,) for b in bars)),
        format_html_join("", "{}", ((label,) for label in labels)),
    )


@dataclass(frozen=True)
class Chart:
    """A chart as a page shows it: the SVG, its legend, and the same figures as a
    table (``columns`` its headings, ``rows`` its cells; the first cell of a row
    heads it)."""

    chart_id: str
    title: str
    description: str
    series: Sequence[Series]
    columns: Sequence[str]
    rows: Sequence[Sequence]
    svg: SafeString

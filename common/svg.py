"""Bar charts drawn on the server as inline SVG: no JavaScript, no chart library, and
nothing the Content-Security-Policy refuses (colours come from classes in
static/css/app.css, never from style attributes).

Each chart is an ``<svg role="img">`` named by its ``<title>`` and described by its
``<desc>`` (``aria-labelledby`` both), so a screen reader announces one image with a
sentence; the page shows the same figures as a table beneath it
(templates/includes/chart.html), for screen readers and for printing."""

from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

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


def _short(label: str, room: float) -> str:
    """``label`` cut to what fits in ``room`` units of width (about 8 a character at
    the axis' size), the full text being in the bar's title and the table."""
    chars = max(3, min(LABEL_CHARS, int(room / 8)))
    return label if len(label) <= chars else label[: chars - 1] + "…"


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
        return f"{TOP + plot_h - plot_h * value / top:.1f}"

    # Built with f-strings rather than format_html for each of its hundreds of
    # elements (the overview draws two charts on every view): numbers are formatted
    # here, and every text (labels, titles, descriptions) goes through escape().
    parts = [
        f'<svg class="chart-svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="{escape(chart_id)}-title {escape(chart_id)}-desc" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{escape(chart_id)}-title">{escape(title)}</title>'
        f'<desc id="{escape(chart_id)}-desc">{escape(description)}</desc><g aria-hidden="true">'
    ]
    for tick in range(0, top + 1, step):
        parts.append(
            f'<line class="chart-grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(tick)}" y2="{y(tick)}"/>'
            f'<text class="chart-axis" x="{LEFT - 6}" y="{y(tick)}" text-anchor="end" '
            f'dominant-baseline="middle">{tick:,}</text>'
        )
    parts.append(
        f'<line class="chart-baseline" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{TOP + plot_h}" y2="{TOP + plot_h}"/>'
    )
    slot = plot_w / count
    bar_w = slot * 0.72 / (1 if stacked else max(len(series), 1))
    names = [escape(s.label.lower()) for s in series]
    for i, category in enumerate(categories):
        x0 = LEFT + slot * i + slot * 0.14
        label = escape(category)
        base = 0
        for n, s in enumerate(series):
            value = s.values[i]
            if value is None:
                continue
            bottom = base if stacked else 0
            x = x0 if stacked else x0 + n * bar_w
            parts.append(
                f'<rect class="{s.css}" x="{x:.1f}" y="{y(bottom + value)}" width="{max(bar_w - 1, 1):.1f}" '
                f'height="{plot_h * value / top:.1f}"><title>{label}: {value:,} {names[n]}</title></rect>'
            )
            if stacked:
                base += value
        if i % label_every == 0:
            parts.append(
                f'<text class="chart-axis" x="{LEFT + slot * (i + 0.5):.1f}" y="{HEIGHT - BOTTOM + 16}" '
                f'text-anchor="middle">{escape(_short(category, slot * label_every))}</text>'
            )
    parts.append("</g></svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text above is escaped


def table_rows(rows: Sequence[Sequence]) -> SafeString:
    """The ``<tr>``s of a chart's table: the first cell of each heads its row."""
    return mark_safe(  # noqa: S308 - every cell is escaped
        "".join(
            f'<tr><th scope="row">{escape(row[0])}</th>'
            + "".join(f'<td class="num">{escape(cell)}</td>' for cell in row[1:])
            + "</tr>"
            for row in rows
        )
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

    @property
    def table_body(self) -> SafeString:
        if not self.rows:
            return format_html('<tr><td colspan="{}" class="empty">No figures yet.</td></tr>', len(self.columns))
        return table_rows(self.rows)

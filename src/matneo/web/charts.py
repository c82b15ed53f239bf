"""Chart builders: plain Python rows in, Vega-Lite v6 specs (JSON-ready dicts) out.

Design
------
* **Pure functions.** Each builder takes lists of dicts (the rows the pages already hold for
  their data tables) and returns ``chart.to_dict()``: no database, no request, no global state.
  The page embeds the dict with the vendored vega-embed and renders the accessible HTML table
  and CSV download itself. Keeping the two apart means the chart can never show a number the
  table does not.
* **Altair builds, Vega-Lite renders.** Altair 6 emits the Vega-Lite v6 schema that the
  vendored Vega-Lite 6.5 compiles. Data are inline (Altair moves them to the spec's top-level
  ``datasets`` under a content hash, so a dataset used by several layers is stored once); no
  URL is ever put in a spec, so rendering fetches nothing.
* **Missing is not zero.** A row whose ``value`` is ``None`` (suppressed or not available) is
  left out of the data, and lines are broken at the gap rather than joined across it. A missing
  confidence or control limit is kept as JSON ``null``, which Vega-Lite 6 treats as invalid:
  it breaks the band or line there and leaves it out of the axis domain. NaN counts as ``None``.
* **Text is formatted here, not in the browser.** Tooltip strings (period, value, interval,
  rule) are made in Python with the same format spec the page uses, so a missing bound reads
  "not available" instead of d3-format's ``0.00`` for ``null``, and fewer expressions run in
  the browser.
* **Accessibility.** Every spec has a ``description`` (vega-embed puts it in the SVG's
  ``aria-label``), a title, titled legends, 14px axis and legend text, colours chosen for
  contrast against white, and a dark outline on every point so that even the light Making Data
  Count fills keep a 3:1 boundary. Colour is never the only cue: SPC point types also differ in
  shape, and the tooltips and the page's table carry the same information as text.
* **Responsive.** ``width="container"``: the embedding element sets the width.
* **Fast.** Schema validation costs far more than building the spec, so the builders call
  ``to_dict(validate=False)``; ``tests/web/test_charts.py`` validates every kind of chart
  against the Vega-Lite schema that Altair ships.
* **No data.** When nothing is left to plot, the builders raise :class:`NoDataError` (a
  ``ValueError``, message ``"no points to plot"``) and the page shows its own "No data" text,
  rather than drawing empty axes that a screen reader would announce as a chart.

Making Data Count colours are NHS-R ``NHSRplotthedots``'s defaults (``nhs-r-community/NHSRplotthedots``,
``R/ptd_spc_colours.R`` @ ``050b07d``, ``ptd_spc_colours()``): grey ``#a6a6a6``, blue
``#00b0f0``, orange ``#e46c0a``, purple ``#490092``; the mean line is black. The grey value line
and dashed limits are drawn in the darker NHS mid grey so that they meet 3:1 contrast.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any, Final

import altair as alt

from matneo.measures.periods import YEARLY, plot_date

__all__ = [
    "EMBED_OPTIONS",
    "FUNNEL_JUDGEMENTS",
    "FUNNEL_POSITIONS",
    "MDC_COLOURS",
    "POINT_TYPES",
    "RULE_TEXT",
    "SERIES_COLOURS",
    "TARGET_LABEL",
    "NoDataError",
    "funnel_chart",
    "funnel_judgement",
    "funnel_position_text",
    "inequality_chart",
    "spc_chart",
    "trend_chart",
]

# --------------------------------------------------------------------------------------
# Style
# --------------------------------------------------------------------------------------

#: NHS.UK design-system colours used by every chart.
_TEXT = "#212b32"  # NHS black: text, outlines, mean and centre lines (14.4:1 on white)
_SECONDARY = "#4c6272"  # NHS secondary text: axes, funnel limits (6.4:1)
_MID_GREY = "#768692"  # NHS mid grey: SPC value line and process limits (3.75:1)
_GRID = "#d8dde0"  # NHS grey 4: gridlines (decorative, deliberately faint)
_NHS_BLUE = "#005eb8"

#: Series colours for trend charts, in order: NHS blue, dark orange, NHS green, dark pink,
#: NHS dark grey. Each has at least 4.8:1 contrast on white, and blue/orange, the first pair,
#: stays distinct under the common colour-vision deficiencies.
SERIES_COLOURS: Final[tuple[str, ...]] = ("#005eb8", "#b35900", "#007f3b", "#ae2573", "#425563")
#: Colour of the dashed ambition trajectory on a trend chart.
TARGET_COLOUR: Final = _TEXT
TARGET_LABEL: Final = "Ambition trajectory"

#: Making Data Count point colours (NHSRplotthedots ``ptd_spc_colours()`` defaults).
MDC_COLOURS: Final[Mapping[str, str]] = {
    "common_cause": "#a6a6a6",
    "improvement": "#00b0f0",
    "concern": "#e46c0a",
    "neutral": "#490092",
}

#: SPC point types (``SpcResult.point_type``) → (legend label, colour, shape), in legend order.
POINT_TYPES: Final[Mapping[str, tuple[str, str, str]]] = {
    "common_cause": ("Common cause variation", MDC_COLOURS["common_cause"], "circle"),
    "special_cause_improvement": ("Special cause: improvement", MDC_COLOURS["improvement"], "square"),
    "special_cause_concern": ("Special cause: concern", MDC_COLOURS["concern"], "diamond"),
    "special_cause_neutral_high": ("Special cause: neither (high)", MDC_COLOURS["neutral"], "triangle-up"),
    "special_cause_neutral_low": ("Special cause: neither (low)", MDC_COLOURS["neutral"], "triangle-down"),
}
#: Short names callers may use for the point types.
_POINT_TYPE_ALIASES: Final[Mapping[str, str]] = {
    "common": "common_cause",
    "improvement": "special_cause_improvement",
    "concern": "special_cause_concern",
    "neither_high": "special_cause_neutral_high",
    "neither_low": "special_cause_neutral_low",
    "neutral_high": "special_cause_neutral_high",
    "neutral_low": "special_cause_neutral_low",
}

#: The special-cause rules of :data:`matneo.stats.spc.RULES` in plain English, for tooltips.
RULE_TEXT: Final[Mapping[str, str]] = {
    "outside_limits": "A point outside the process limits",
    "trend": "A trend: 7 points in a row each higher (or lower) than the one before",
    "two_in_three": "2 of 3 points in a row close to a process limit, on the same side",
    "run": "A shift: 7 points in a row on the same side of the mean",
    "": "None",
}

#: Funnel positions (``matneo.stats.funnel.funnel_position``), from highest to lowest.
FUNNEL_POSITIONS: Final[tuple[str, ...]] = ("above_998", "above_95", "within", "below_95", "below_998")
#: Funnel judgements (:func:`funnel_judgement`) → (words, fill colour, shape, NHS.UK tag class),
#: best to worst. Worse is the Making Data Count concern orange and better its improvement
#: blue, each darker beyond the 99.8% limit; the shape repeats the meaning (square better,
#: diamond worse, as on the SPC chart), so colour is never the only cue. Light fills rely on
#: the dark outline for contrast.
FUNNEL_JUDGEMENTS: Final[Mapping[str, tuple[str, str, str, str]]] = {
    "better_998": ("Better than expected", "#005eb8", "square", "nhsuk-tag--blue"),
    "better_95": ("Possibly better than expected", "#8fc1ea", "square", "nhsuk-tag--blue"),
    "within": ("As expected", "#d8dde0", "circle", "nhsuk-tag--grey"),
    "worse_95": ("Possibly worse than expected", "#f5b97f", "diamond", "nhsuk-tag--orange"),
    "worse_998": ("Worse than expected", "#b35900", "diamond", "nhsuk-tag--orange"),
    "not_applicable": ("No births", "#ffffff", "circle", "nhsuk-tag--white"),
}
_LIMIT_TEXT: Final[Mapping[str, str]] = {
    "above_998": "above the 99.8% limit",
    "above_95": "above the 95% limit",
    "within": "within the 95% limits",
    "below_95": "below the 95% limit",
    "below_998": "below the 99.8% limit",
    "not_applicable": "no births",
}


def funnel_judgement(position: str, direction: str) -> str:
    """Better or worse than expected, from a funnel position and the measure's direction.

    A point above the upper limit is better than expected when higher is better (continuity
    of carer) and worse when lower is better (stillbirth); below the lower limit the reverse.
    Beyond the 99.8% limit it is "better"/"worse"; between the 95% and 99.8% limits only
    "possibly" so, as one organisation in 20 is beyond a 95% limit by chance alone
    (Spiegelhalter DJ. Funnel plots for comparing institutional performance. *Statistics in
    Medicine* 2005;24(8):1185–1202).

    Raises:
        ValueError: an unknown position or direction.
    """
    if direction not in ("higher_is_better", "lower_is_better"):
        raise ValueError(f"direction must be higher_is_better or lower_is_better, not {direction!r}")
    if position in ("within", "not_applicable"):
        return position
    if position not in FUNNEL_POSITIONS:
        raise ValueError(f"position must be one of {', '.join(FUNNEL_POSITIONS)} or not_applicable, not {position!r}")
    side, limit = position.split("_")
    better = (side == "above") == (direction == "higher_is_better")
    return f"{'better' if better else 'worse'}_{limit}"


def funnel_position_text(position: str, direction: str) -> str:
    """A funnel position in words: the judgement, with the limit as the detail.

    "Worse than expected (above the 99.8% limit)", "As expected (within the 95% limits)".
    """
    if position == "not_applicable":
        return "No births"
    return f"{FUNNEL_JUDGEMENTS[funnel_judgement(position, direction)][0]} ({_LIMIT_TEXT[position]})"


#: Funnel lines → (legend label, colour, dash), in legend order.
_FUNNEL_LINES: Final[Mapping[str, tuple[str, str, list[float]]]] = {
    "centre": ("Average (centre line)", _TEXT, [1, 0]),
    "95": ("95% control limits", _SECONDARY, [6, 4]),
    "998": ("99.8% control limits", _SECONDARY, [1, 0]),
}

#: Longest text a title or legend label may run to: the embedding element's width, less room for
#: a legend symbol. Longer text ends in "…" (the table below the chart has it in full). Without a
#: limit, text wider than a phone's screen leaves the plot with no width at all ("fit-x").
_FIT = alt.ExprRef(expr="max(containerSize()[0] - 48, 120)")
_FONT = "Frutiger W01, Arial, Helvetica, sans-serif"  # the NHS.UK stack; nothing is downloaded
_CONFIG = alt.Config(
    font=_FONT,
    background="white",
    view=alt.ViewConfig(stroke=None),
    axis=alt.AxisConfig(
        labelFontSize=14,
        titleFontSize=14,
        titleFontWeight="normal",
        labelColor=_TEXT,
        titleColor=_TEXT,
        domainColor=_SECONDARY,
        tickColor=_SECONDARY,
        gridColor=_GRID,
        labelLimit=240,
    ),
    legend=alt.LegendConfig(
        orient="bottom",
        direction="vertical",
        labelFontSize=14,
        titleFontSize=14,
        labelColor=_TEXT,
        titleColor=_TEXT,
        labelLimit=_FIT,
    ),
    title=alt.TitleConfig(fontSize=19, fontWeight="bold", color=_TEXT, anchor="start", offset=12, limit=_FIT),
)

#: Options to pass to ``vegaEmbed(el, spec, EMBED_OPTIONS)``: SVG (marks carry ARIA roles),
#: no actions menu (it links to the online editor), and ``ast: true`` so that vega-embed
#: evaluates expressions with the vega-interpreter bundled in vega-embed 7 instead of
#: ``new Function`` (a Content-Security-Policy without ``'unsafe-eval'`` then works).
EMBED_OPTIONS: Final[Mapping[str, Any]] = {"renderer": "svg", "actions": False, "ast": True}

DEFAULT_HEIGHT: Final = 320
DEFAULT_VALUE_FORMAT: Final = ",.2f"

# --------------------------------------------------------------------------------------
# Input normalisation
# --------------------------------------------------------------------------------------


class NoDataError(ValueError):
    """Nothing is left to plot (no rows, or every value suppressed or missing).

    A ``ValueError`` so that callers validating input catch it too; the page catches it to
    show its own "No data" text instead of a chart.
    """

    def __init__(self, message: str = "no points to plot") -> None:
        super().__init__(message)


def _number(value: Any, key: str) -> float | None:
    """A Python float, or ``None`` for ``None``/NaN/±inf (JSON has no NaN; missing is not 0)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{key} must be a number or None, not {type(value).__name__} {value!r}")
    number = float(value)
    return number if math.isfinite(number) else None


def _date(value: Any, key: str = "period_start") -> date:
    """A ``date`` from a date, datetime or ISO 8601 string; anything else is an error."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value).date()
        except ValueError:
            pass
    raise ValueError(f"{key} must be a date or an ISO 8601 date string, not {value!r}")


def _fmt(value: float | None, spec: str) -> str:
    """Format like d3-format (the same spec mini-language for the common cases)."""
    return "not available" if value is None else format(value, spec)


def _interval(lower: float | None, upper: float | None, spec: str) -> str:
    if lower is None or upper is None:
        return "not available"
    return f"{format(lower, spec)} to {format(upper, spec)}"


def _period_label(row: Mapping[str, Any], at: date, yearly: bool = False) -> str:
    """The row's own period label (``compute`` rows carry ``period``), else "Apr 2024" or "2024"."""
    label = row.get("period")
    return str(label) if label else f"{at:%Y}" if yearly else f"{at:%b %Y}"


def _rows(rows: Iterable[Mapping[str, Any]] | None, what: str) -> list[Mapping[str, Any]]:
    if rows is None:
        return []
    rows = list(rows)
    for i, row in enumerate(rows):
        if not isinstance(row, Mapping):
            raise TypeError(f"{what}[{i}] must be a mapping, not {type(row).__name__}")
    return rows


def _segments(records: list[dict[str, Any]], keep: list[bool], by: str | None = None) -> list[dict[str, Any]]:
    """Number the unbroken runs of kept records (per ``by``) so that lines break at gaps.

    ``records`` must be in plotting order; a dropped record ends the current run of its series.
    """
    current: dict[Any, int] = {}
    broken: dict[Any, bool] = {}
    out = []
    for record, kept in zip(records, keep, strict=True):
        series = record.get(by) if by else None
        if not kept:
            broken[series] = True
            continue
        if broken.pop(series, False) and series in current:
            current[series] += 1
        record["segment"] = current.setdefault(series, 0)
        out.append(record)
    return out


def _data(name: str) -> dict[str, str]:
    """A reference to one of the spec's top-level ``datasets``."""
    return {"name": name}


def _layered(
    layers: Sequence[alt.Chart],
    *,
    title: str,
    description: str,
    height: int,
    datasets: dict[str, list[dict[str, Any]]],
    data: str | None = None,
    resolve: alt.Resolve | None = None,
) -> dict[str, Any]:
    """Assemble the layers and serialise them, attaching the data afterwards.

    The data go into the spec's top-level ``datasets`` by name after ``to_dict``: handing
    hundreds of records to Altair would have it validate and walk every one (the bulk of the
    build time), although they are plain JSON values already.
    """
    chart = alt.LayerChart(
        data=_data(data) if data else alt.Undefined,
        layer=list(layers),
        title=alt.TitleParams(text=title),
        description=description,
        width="container",
        height=height,
        autosize=alt.AutoSizeParams(type="fit-x", contains="padding"),
        config=_CONFIG,
    )
    if resolve is not None:
        chart = chart.properties(resolve=resolve)
    spec = chart.to_dict(validate=False)
    spec["datasets"] = datasets
    return spec


def _title_join(names: Sequence[str]) -> str:
    names = list(names)
    if len(names) <= 2:
        return " and ".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


# --------------------------------------------------------------------------------------
# Trend chart
# --------------------------------------------------------------------------------------


def trend_chart(
    rows: Iterable[Mapping[str, Any]],
    *,
    unit_label: str,
    title: str,
    period_type: str = "month",
    target: Iterable[Mapping[str, Any]] | None = None,
    series_title: str = "Organisation",
    value_format: str = DEFAULT_VALUE_FORMAT,
    height: int = DEFAULT_HEIGHT,
    description: str | None = None,
) -> dict[str, Any]:
    """A line chart of a measure over time: one line, point set and 95% CI band per series.

    ``rows``: dicts with ``period_end`` (the last day of the point's window: a date or ISO
    string), ``value``, ``lower95``, ``upper95``, ``series`` (e.g. the organisation name:
    several series, such as trust, LMNS and England, get a colour legend) and ``period`` (the
    label to show, :func:`matneo.measures.periods.period_label`). Each point is drawn at the
    end of its window (:func:`matneo.measures.periods.plot_date` for ``period_type``), so a
    rolling 12-month rate sits on its last month and a triennium on its last year; yearly
    period types get a yearly axis ("2024", not "Jan 2024"). Rows with ``value`` ``None`` are
    left out and the line and band break there. ``target``: optional dicts ``{period_end,
    value, period}`` drawn as a dashed "Ambition trajectory" line. Series keep their
    first-seen order, which is the legend order.

    Raises:
        NoDataError: no row has a value.
    """
    yearly = period_type in YEARLY
    source = _rows(rows, "rows")
    prepared: list[tuple[str, date, dict[str, Any], bool]] = []
    series_order: list[str] = []
    for row in source:
        series = str(row.get("series") or "")
        end = _date(row.get("period_end"), "period_end")
        at = plot_date(period_type, end)
        value = _number(row.get("value"), "value")
        lower, upper = _number(row.get("lower95"), "lower95"), _number(row.get("upper95"), "upper95")
        record = {
            "series": series,
            "period_end": end.isoformat(),
            "plot_date": at.isoformat(),
            "period": _period_label(row, at, yearly),
            "value": value,
            "lower95": lower,
            "upper95": upper,
            "value_text": _fmt(value, value_format),
            "ci_text": _interval(lower, upper, value_format),
        }
        prepared.append((series, at, record, value is not None))
        if value is not None and series not in series_order:
            series_order.append(series)
    rank = {name: i for i, name in enumerate(series_order)}
    prepared.sort(key=lambda p: (rank.get(p[0], len(rank)), p[1]))
    records = _segments([p[2] for p in prepared], [p[3] for p in prepared], by="series")
    if not records:
        raise NoDataError()

    targets: list[dict[str, Any]] = []
    for row in _rows(target, "target"):
        end = _date(row.get("period_end"), "period_end")
        at = plot_date(period_type, end)
        value = _number(row.get("value"), "target value")
        if value is not None:
            targets.append(
                {
                    "series": TARGET_LABEL,
                    "period_end": end.isoformat(),
                    "plot_date": at.isoformat(),
                    "period": _period_label(row, at, yearly),
                    "value": value,
                    "value_text": _fmt(value, value_format),
                }
            )
    targets.sort(key=lambda r: r["plot_date"])

    domain = list(series_order) + ([TARGET_LABEL] if targets else [])
    palette = [SERIES_COLOURS[i % len(SERIES_COLOURS)] for i in range(len(series_order))]
    colour_scale = alt.Scale(domain=domain, range=palette + ([TARGET_COLOUR] if targets else []))
    # The band's low opacity would otherwise fade the legend symbols; show them as solid lines.
    legend = alt.Legend(symbolType="stroke", symbolOpacity=1, symbolStrokeWidth=3, symbolSize=300)
    colour = alt.Color("series:N", scale=colour_scale, title=series_title, sort=domain, legend=legend)
    x = alt.X(
        "plot_date:T",
        title="Year" if yearly else "Period",
        scale=alt.Scale(type="utc"),
        axis=alt.Axis(
            format="%Y" if yearly else "%b %Y",
            labelOverlap=True,
            grid=False,
            tickCount={"interval": "year", "step": 1} if yearly else alt.Undefined,
        ),
    )
    # Not from zero: a trend is about change, and a measure near 90% would otherwise be a flat line.
    y_scale = alt.Scale(zero=False)
    y = alt.Y("value:Q", title=unit_label, scale=y_scale)
    tooltip = [
        alt.Tooltip("series:N", title=series_title),
        alt.Tooltip("period:N", title="Period"),
        alt.Tooltip("value_text:N", title=unit_label),
        alt.Tooltip("ci_text:N", title="95% confidence interval"),
    ]
    base = alt.Chart()
    layers: list[Any] = [
        base.mark_area(opacity=0.15).encode(
            x=x,
            y=alt.Y("lower95:Q", title=unit_label, scale=y_scale),
            y2=alt.Y2(field="upper95"),
            color=colour,
            detail=alt.Detail("segment:N"),
        ),
        base.mark_line(strokeWidth=2).encode(x=x, y=y, color=colour, detail=alt.Detail("segment:N")),
        base.mark_point(filled=True, size=50, opacity=1, stroke="white", strokeWidth=0.75).encode(
            x=x, y=y, color=colour, tooltip=tooltip
        ),
    ]
    if targets:
        layers.append(
            alt.Chart(_data("target"))
            .mark_line(strokeDash=[6, 4], strokeWidth=2)
            .encode(
                x=x,
                y=y,
                color=colour,
                tooltip=[
                    alt.Tooltip("series:N", title="Line"),
                    alt.Tooltip("period:N", title="Period"),
                    alt.Tooltip("value_text:N", title=unit_label),
                ],
            )
        )
    if description is None:
        periods = sorted({(r["plot_date"], r["period"]) for r in records})
        first, last = periods[0][1], periods[-1][1]
        description = (
            f"{title}. Line chart of {unit_label} for {_title_join(series_order)}, from {first} to {last}, "
            f"with shaded 95% confidence intervals"
            + (", and a dashed line for the ambition trajectory" if targets else "")
            + f". {len(records)} points plotted; suppressed or missing periods are left out. "
            "The same figures are in the table below the chart."
        )
    datasets = {"points": records, "target": targets} if targets else {"points": records}
    return _layered(layers, title=title, description=description, height=height, datasets=datasets, data="points")


# --------------------------------------------------------------------------------------
# SPC chart
# --------------------------------------------------------------------------------------


def _point_type(value: Any) -> str:
    name = str(value or "common_cause")
    name = _POINT_TYPE_ALIASES.get(name, name)
    if name not in POINT_TYPES:
        raise ValueError(f"point_type must be one of {', '.join(POINT_TYPES)}, not {value!r}")
    return name


def spc_chart(
    points: Iterable[Mapping[str, Any]],
    *,
    unit_label: str,
    title: str,
    value_format: str = DEFAULT_VALUE_FORMAT,
    height: int = DEFAULT_HEIGHT,
    description: str | None = None,
) -> dict[str, Any]:
    """A Making Data Count SPC chart: values, mean, process limits, points coloured by type.

    ``points``: dicts with ``period_start``, ``value``, ``mean``, ``lpl``, ``upl``,
    ``point_type`` (``SpcResult.point_type``: ``common_cause``, ``special_cause_improvement``,
    ``special_cause_concern``, ``special_cause_neutral_high``/``_low``; the short names
    ``improvement``, ``concern``, ``neutral_high``... are accepted), ``special_cause``, and
    optionally ``rule`` (``SpcResult.rule``: which rule fired, shown in the tooltip), ``group``
    (rebase group: the mean and limits restart at a rebase) and ``period``. Zip
    ``SpcResult.to_records()`` with the periods to make them. Missing values are left out and
    the line breaks there; limits stay per point, so P′ limits step with the denominator.

    Raises:
        NoDataError: no point has a value.
    """
    source = _rows(points, "points")
    prepared: list[tuple[date, dict[str, Any], bool]] = []
    for row in source:
        start = _date(row.get("period_start"))
        value = _number(row.get("value"), "value")
        point_type = _point_type(row.get("point_type"))
        special = bool(row.get("special_cause", point_type != "common_cause"))
        rule = str(row.get("rule") or "")
        if rule not in RULE_TEXT:
            raise ValueError(f"rule must be one of {', '.join(repr(r) for r in RULE_TEXT)}, not {rule!r}")
        mean, lpl, upl = (_number(row.get(k), k) for k in ("mean", "lpl", "upl"))
        group = row.get("group")
        record = {
            "period_start": start.isoformat(),
            "period": _period_label(row, start),
            "value": value,
            "mean": mean,
            "lpl": lpl,
            "upl": upl,
            "group": 0 if group is None else group if isinstance(group, int) else str(group),
            "point_type": point_type,
            "special_cause": special,
            "rule": rule,
            "variation": POINT_TYPES[point_type][0],
            "rule_text": RULE_TEXT[rule] if rule or not special else "Special cause (rule not recorded)",
            "value_text": _fmt(value, value_format),
            "mean_text": _fmt(mean, value_format),
            "limits_text": _interval(lpl, upl, value_format),
        }
        prepared.append((start, record, value is not None and not row.get("missing", False)))
    prepared.sort(key=lambda p: p[0])
    records = _segments([p[1] for p in prepared], [p[2] for p in prepared])
    if not records:
        raise NoDataError()

    present = {r["point_type"] for r in records}
    kinds = [k for k in POINT_TYPES if k in present]
    labels = [POINT_TYPES[k][0] for k in kinds]
    variation: dict[str, Any] = {"field": "variation", "type": "nominal", "title": "Variation", "sort": labels}
    colour = alt.Color(**variation, scale=alt.Scale(domain=labels, range=[POINT_TYPES[k][1] for k in kinds]))
    shape = alt.Shape(**variation, scale=alt.Scale(domain=labels, range=[POINT_TYPES[k][2] for k in kinds]))
    x = alt.X(
        "period_start:T",
        title="Period",
        scale=alt.Scale(type="utc"),
        axis=alt.Axis(format="%b %Y", labelOverlap=True, grid=False),
    )
    base = alt.Chart()
    limit_line: dict[str, Any] = {"interpolate": "step", "strokeDash": [6, 4], "strokeWidth": 1.5, "color": _MID_GREY}
    layers = [
        base.mark_line(**limit_line).encode(x=x, y=alt.Y("upl:Q", title=unit_label), detail=alt.Detail("group:N")),
        base.mark_line(**limit_line).encode(x=x, y=alt.Y("lpl:Q"), detail=alt.Detail("group:N")),
        base.mark_line(interpolate="step", strokeWidth=1.5, color=_TEXT).encode(
            x=x, y=alt.Y("mean:Q"), detail=alt.Detail("group:N")
        ),
        base.mark_line(strokeWidth=2, color=_MID_GREY).encode(x=x, y=alt.Y("value:Q"), detail=alt.Detail("segment:N")),
        base.mark_point(filled=True, size=70, opacity=1, stroke=_TEXT, strokeWidth=0.75).encode(
            x=x,
            y=alt.Y("value:Q"),
            color=colour,
            shape=shape,
            tooltip=[
                alt.Tooltip("period:N", title="Period"),
                alt.Tooltip("value_text:N", title=unit_label),
                alt.Tooltip("mean_text:N", title="Mean"),
                alt.Tooltip("limits_text:N", title="Process limits"),
                alt.Tooltip("variation:N", title="Variation"),
                alt.Tooltip("rule_text:N", title="Special-cause rule"),
            ],
        ),
    ]
    if description is None:
        n_special = sum(r["special_cause"] for r in records)
        counts = "; ".join(f"{sum(r['point_type'] == k for r in records)} {POINT_TYPES[k][0].lower()}" for k in kinds)
        description = (
            f"{title}. Statistical process control chart (Making Data Count style) of {unit_label}, "
            f"{records[0]['period']} to {records[-1]['period']}: {len(records)} points joined by a grey line, "
            "the mean as a solid black line and the process limits as dashed grey lines. "
            f"{n_special} point(s) show special-cause variation ({counts}). "
            "The same figures are in the table below the chart."
        )
    return _layered(
        layers, title=title, description=description, height=height, datasets={"points": records}, data="points"
    )


# --------------------------------------------------------------------------------------
# Funnel plot
# --------------------------------------------------------------------------------------


def _href(value: Any) -> str | None:
    """Only site-relative paths or http(s) URLs: a chart must never carry a ``javascript:`` link."""
    if value is None or value == "":
        return None
    href = str(value)
    if href.startswith("/") and not href.startswith("//"):
        return href
    if href.startswith(("https://", "http://")):
        return href
    raise ValueError(f"href must be a site-relative path or an http(s) URL, not {href!r}")


def _curve_value(row: Mapping[str, Any], *keys: str) -> float | None:
    for key in keys:
        if key in row:
            return _number(row[key], key)
    return None


def funnel_chart(
    points: Iterable[Mapping[str, Any]],
    curve: Iterable[Mapping[str, Any]],
    *,
    unit_label: str,
    title: str,
    direction: str,
    highlight: str | None = None,
    denominator_label: str = "Denominator",
    value_format: str = DEFAULT_VALUE_FORMAT,
    height: int = DEFAULT_HEIGHT,
    y_domain: tuple[float, float] | None = None,
    description: str | None = None,
) -> dict[str, Any]:
    """A funnel plot: one clickable point per organisation against 95% and 99.8% limits.

    ``points``: dicts with ``org_code``, ``org_name``, ``denominator``, ``value``, ``href``
    (the organisation's page: a site-relative path or http(s) URL; clicking the point opens it)
    and ``position`` (``funnel_position``: ``below_998``, ``below_95``, ``within``,
    ``above_95``, ``above_998``; ``not_applicable`` points are left out, as are points with no
    value). ``direction`` (``higher_is_better`` or ``lower_is_better``, the measure's) turns
    positions into "better" or "worse than expected" (:func:`funnel_judgement`), which set the
    colour, shape and legend; the limit crossed stays in the tooltip. ``curve``: dicts with
    ``denominator``, ``centre``, ``lower95``, ``upper95``, ``lower998``, ``upper998``;
    ``FunnelCurve.to_records()``'s ``baseline``/``lower_95``... names are accepted too.
    ``highlight``: an ``org_code`` drawn with a thick ring and its name, for the organisation
    whose page this is (ignored if that organisation has no point).

    The y axis spans the points and the centre line with a margin (or ``y_domain``); the limit
    lines are clipped to it, since at tiny denominators they run off towards 0 and 100%.

    Raises:
        NoDataError: no point has a value.
    """
    records: list[dict[str, Any]] = []
    for row in _rows(points, "points"):
        value = _number(row.get("value"), "value")
        denominator = _number(row.get("denominator"), "denominator")
        position = str(row.get("position") or "")
        if position == "not_applicable" or value is None or denominator is None:
            continue
        judgement = funnel_judgement(position, direction)
        org_code = str(row.get("org_code") or "")
        record = {
            "org_code": org_code,
            "org_name": str(row.get("org_name") or org_code),
            "denominator": denominator,
            "value": value,
            "position": position,
            "judgement": judgement,
            "judgement_label": FUNNEL_JUDGEMENTS[judgement][0],
            "position_label": funnel_position_text(position, direction),
            "highlighted": highlight is not None and org_code == highlight,
            "value_text": _fmt(value, value_format),
            "denominator_text": _fmt(denominator, ",.0f"),
        }
        href = _href(row.get("href"))
        if href is not None:
            record["href"] = href
        records.append(record)
    if not records:
        raise NoDataError()

    lines = []
    centres = []
    for row in _rows(curve, "curve"):
        n = _number(row.get("denominator"), "curve denominator")
        if n is None:
            continue
        centre = _curve_value(row, "centre", "baseline")
        if centre is not None:
            centres.append(centre)
        for line, side, y in (
            ("centre", "centre", centre),
            ("95", "lower", _curve_value(row, "lower95", "lower_95")),
            ("95", "upper", _curve_value(row, "upper95", "upper_95")),
            ("998", "lower", _curve_value(row, "lower998", "lower_998")),
            ("998", "upper", _curve_value(row, "upper998", "upper_998")),
        ):
            lines.append({"denominator": n, "line": _FUNNEL_LINES[line][0], "side": side, "limit": y})
    lines.sort(key=lambda r: (r["line"], r["side"], r["denominator"]))

    if y_domain is None:
        ys = [r["value"] for r in records] + centres
        low, high = min(ys), max(ys)
        pad = (high - low) * 0.15 or abs(high) * 0.1 or 1.0
        y_domain = (max(low - pad, 0.0) if low >= 0 else low - pad, high + pad)
    y_scale = alt.Scale(domain=list(y_domain), zero=False, nice=False)
    x = alt.X("denominator:Q", title=denominator_label, axis=alt.Axis(format=",.0f"))

    present = [j for j in FUNNEL_JUDGEMENTS if any(r["judgement"] == j for r in records)]
    labels = [FUNNEL_JUDGEMENTS[j][0] for j in present]
    tooltip = [
        alt.Tooltip("org_name:N", title="Organisation"),
        alt.Tooltip("org_code:N", title="Code"),
        alt.Tooltip("value_text:N", title=unit_label),
        alt.Tooltip("denominator_text:N", title=denominator_label),
        alt.Tooltip("position_label:N", title="Compared with expected"),
    ]
    point_encoding = {"x": x, "y": alt.Y("value:Q", scale=y_scale, title=unit_label), "tooltip": tooltip}
    if any("href" in r for r in records):
        point_encoding["href"] = alt.Href("href:N")
    line_labels = [v[0] for v in _FUNNEL_LINES.values()]
    line_legend = alt.Legend(symbolType="stroke", symbolSize=600, symbolStrokeWidth=2)
    line_field: dict[str, Any] = {
        "field": "line",
        "type": "nominal",
        "title": "Lines",
        "sort": line_labels,
        "legend": line_legend,
    }
    layers: list[Any] = []
    if lines:
        layers.append(
            alt.Chart(_data("curve"))
            .mark_line(clip=True, strokeWidth=1.5)
            .encode(
                x=x,
                y=alt.Y("limit:Q", scale=y_scale, title=unit_label),
                color=alt.Color(
                    **line_field,
                    scale=alt.Scale(domain=line_labels, range=[v[1] for v in _FUNNEL_LINES.values()]),
                ),
                strokeDash=alt.StrokeDash(
                    **line_field,
                    scale=alt.Scale(domain=line_labels, range=[v[2] for v in _FUNNEL_LINES.values()]),
                ),
                detail=alt.Detail("side:N"),
            )
        )
    layers.append(
        alt.Chart(_data("points"))
        .mark_point(filled=True, size=70, opacity=1, stroke=_TEXT, strokeWidth=0.75, clip=True)
        .encode(
            **point_encoding,
            fill=alt.Fill(
                "judgement_label:N",
                title="Compared with expected",
                sort=labels,
                scale=alt.Scale(domain=labels, range=[FUNNEL_JUDGEMENTS[j][1] for j in present]),
            ),
            shape=alt.Shape(
                "judgement_label:N",
                title="Compared with expected",
                sort=labels,
                scale=alt.Scale(domain=labels, range=[FUNNEL_JUDGEMENTS[j][2] for j in present]),
            ),
        )
    )
    chosen = [r for r in records if r["highlighted"]]
    if chosen:
        ring = alt.Chart(_data("highlight"))
        layers.append(
            ring.mark_point(filled=False, size=260, stroke=_TEXT, strokeWidth=3, opacity=1, clip=True).encode(
                **point_encoding
            )
        )
        layers.append(
            ring.mark_text(align="left", dx=12, dy=-12, fontSize=14, fontWeight="bold", color=_TEXT).encode(
                x=x, y=alt.Y("value:Q", scale=y_scale, title=unit_label), text=alt.Text("org_name:N")
            )
        )
    datasets = {"points": records, "curve": lines}
    if chosen:
        datasets["highlight"] = chosen
    if description is None:
        counts = "; ".join(
            f"{sum(r['judgement'] == j for r in records)} {FUNNEL_JUDGEMENTS[j][0].lower()}" for j in present
        )
        description = (
            f"{title}. Funnel plot of {unit_label} against {denominator_label.lower()} for {len(records)} "
            "organisations, with the average as a solid line, 95% control limits as dashed lines and 99.8% "
            f"control limits as solid grey lines. {counts}."
            + (f" {chosen[0]['org_name']} is ringed and labelled." if chosen else "")
            + " Each point links to the organisation's page; the same figures are in the table below the chart."
        )
    return _layered(
        layers,
        title=title,
        description=description,
        height=height,
        datasets=datasets,
        resolve=alt.Resolve(scale=alt.ScaleResolveMap(color="independent", strokeDash="independent")),
    )


# --------------------------------------------------------------------------------------
# Inequality chart
# --------------------------------------------------------------------------------------


def inequality_chart(
    rows: Iterable[Mapping[str, Any]],
    *,
    unit_label: str,
    title: str,
    reference: str | None = None,
    group_title: str = "Group",
    value_format: str = DEFAULT_VALUE_FORMAT,
    step: int = 36,
    description: str | None = None,
) -> dict[str, Any]:
    """A horizontal dot-and-whisker chart: one row per group, in the order given.

    ``rows``: dicts with ``group`` (label), ``value``, ``lower95``, ``upper95`` and optionally
    the ratio to the reference group as ``rate_ratio`` or ``ratio`` (``inequalities()``'s
    name) with ``ratio_lower95``/``ratio_upper95``, shown in the tooltip. ``reference``: the
    reference group (default: the rows' ``reference_group``, if any); its value is drawn as a
    dashed vertical line and its label gets "(reference)". Groups with no value are left out.

    Raises:
        NoDataError: no group has a value.
    """
    source = _rows(rows, "rows")
    if reference is None:
        refs = {str(r["reference_group"]) for r in source if r.get("reference_group")}
        reference = refs.pop() if len(refs) == 1 else None
    ratio_title = f"Ratio to {reference}" if reference else "Ratio to the reference group"
    records: list[dict[str, Any]] = []
    for row in source:
        value = _number(row.get("value"), "value")
        if value is None:
            continue
        group = str(row.get("group"))
        lower, upper = _number(row.get("lower95"), "lower95"), _number(row.get("upper95"), "upper95")
        ratio = _number(row.get("rate_ratio", row.get("ratio")), "rate_ratio")
        ratio_lower = _number(row.get("ratio_lower95", row.get("rate_ratio_lower95")), "ratio_lower95")
        ratio_upper = _number(row.get("ratio_upper95", row.get("rate_ratio_upper95")), "ratio_upper95")
        if ratio is None:
            ratio_text = "not available"
        elif ratio_lower is None or ratio_upper is None:
            ratio_text = _fmt(ratio, ".2f")
        else:
            ratio_text = f"{ratio:.2f} ({ratio_lower:.2f} to {ratio_upper:.2f})"
        is_reference = reference is not None and group == reference
        records.append(
            {
                "group": group,
                "group_label": f"{group} (reference)" if is_reference else group,
                "value": value,
                "lower95": lower,
                "upper95": upper,
                "rate_ratio": ratio,
                "value_text": _fmt(value, value_format),
                "ci_text": _interval(lower, upper, value_format),
                "ratio_text": "1 (reference)" if is_reference else ratio_text,
            }
        )
    if not records:
        raise NoDataError()

    order = [r["group_label"] for r in records]
    y = alt.Y("group_label:N", title=group_title, sort=order, axis=alt.Axis(grid=False))
    x_title = unit_label + " (dot: value; bar: 95% confidence interval)"
    tooltip = [
        alt.Tooltip("group:N", title=group_title),
        alt.Tooltip("value_text:N", title=unit_label),
        alt.Tooltip("ci_text:N", title="95% confidence interval"),
        alt.Tooltip("ratio_text:N", title=ratio_title),
    ]
    base = alt.Chart()
    layers: list[Any] = []
    ref_rows = [r for r in records if r["group"] == reference]
    datasets = {"points": records}
    if ref_rows:
        datasets["reference"] = [{"value": ref_rows[0]["value"]}]
        layers.append(
            alt.Chart(_data("reference"))
            .mark_rule(strokeDash=[6, 4], color=_SECONDARY, strokeWidth=1.5)
            .encode(x=alt.X("value:Q"))
        )
    layers += [
        base.mark_rule(strokeWidth=2.5, color=_NHS_BLUE).encode(
            x=alt.X("lower95:Q", title=x_title), x2=alt.X2(field="upper95"), y=y, tooltip=tooltip
        ),
        base.mark_point(filled=True, size=90, opacity=1, color=_NHS_BLUE, stroke=_TEXT, strokeWidth=0.75).encode(
            x=alt.X("value:Q"), y=y, tooltip=tooltip
        ),
    ]
    if description is None:
        highest = max(records, key=lambda r: r["value"])
        lowest = min(records, key=lambda r: r["value"])
        description = (
            f"{title}. Dot-and-whisker chart of {unit_label} for {len(records)} groups "
            f"({_title_join([r['group'] for r in records])}), each with its 95% confidence interval"
            + (f"; the dashed line marks the reference group, {reference}" if ref_rows else "")
            + f". Highest: {highest['group']} ({highest['value_text']}); lowest: {lowest['group']} "
            f"({lowest['value_text']}). The same figures are in the table below the chart."
        )
    return _layered(
        layers,
        title=title,
        description=description,
        height=step * len(records),
        datasets=datasets,
        data="points",
    )

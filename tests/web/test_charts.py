"""The chart builders: valid Vega-Lite v6, data passed through faithfully, the promised encodings.

Every spec is validated against the Vega-Lite JSON schema that Altair bundles (offline), since
the builders themselves skip validation for speed.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import altair as alt
import jsonschema
import pytest

from matneo.dates import month_end
from matneo.measures.periods import period_label
from matneo.stats.funnel import funnel
from matneo.stats.spc import RULES, spc
from matneo.web.charts import (
    FUNNEL_JUDGEMENTS,
    MDC_COLOURS,
    POINT_TYPES,
    RULE_TEXT,
    TARGET_LABEL,
    NoDataError,
    funnel_chart,
    funnel_judgement,
    funnel_position_text,
    inequality_chart,
    spc_chart,
    trend_chart,
)


@pytest.fixture(scope="module")
def validator() -> jsonschema.protocols.Validator:
    schema = alt.vegalite.v6.schema.load_schema()
    return jsonschema.validators.validator_for(schema)(schema)


def check_spec(spec: dict[str, Any], validator: jsonschema.protocols.Validator) -> None:
    """Valid Vega-Lite, JSON-ready, described, responsive, and referencing no remote resource."""
    validator.validate(spec)
    text = json.dumps(spec, allow_nan=False)
    assert spec["$schema"].startswith("https://vega.github.io/schema/vega-lite/v6")
    assert text.count("http") == text.count('"https://vega.github.io/schema/vega-lite/v6')
    assert '"url"' not in text
    assert len(spec["description"]) > 40
    assert spec["width"] == "container"
    for layer in spec["layer"]:
        data = layer.get("data", spec.get("data"))
        assert data["name"] in spec["datasets"]


def layer_with(spec: dict[str, Any], mark: str, **encoding_fields: str) -> dict[str, Any]:
    """The one layer of ``mark`` type whose encodings use the given fields."""
    found = [
        layer
        for layer in spec["layer"]
        if (layer["mark"]["type"] if isinstance(layer["mark"], dict) else layer["mark"]) == mark
        and all(layer["encoding"].get(ch, {}).get("field") == f for ch, f in encoding_fields.items())
    ]
    assert len(found) == 1, (mark, encoding_fields, found)
    return found[0]


def months(n: int, start_year: int = 2022) -> list[date]:
    return [date(start_year + i // 12, i % 12 + 1, 1) for i in range(n)]


def month_ends(n: int, start_year: int = 2022) -> list[date]:
    return [month_end(start) for start in months(n, start_year)]


# --------------------------------------------------------------------------------------
# Trend
# --------------------------------------------------------------------------------------


def trend_rows() -> list[dict[str, Any]]:
    rows = []
    for series, base in (("Trust A", 4.0), ("England", 3.5)):
        for i, end in enumerate(month_ends(12)):
            value = None if (series == "Trust A" and i == 5) else base + i / 10
            rows.append(
                {
                    "series": series,
                    "period_end": end if series == "Trust A" else end.isoformat(),
                    "value": value,
                    "lower95": None if i == 8 else base - 1,
                    "upper95": base + 2,
                }
            )
    return rows


def test_trend_chart_plots_every_value_once_and_drops_suppressed(validator):
    rows = trend_rows()
    spec = trend_chart(rows, unit_label="Stillbirths per 1,000 births", title="Stillbirths")
    check_spec(spec, validator)

    points = spec["datasets"][spec["data"]["name"]]
    assert len(points) == 23  # 24 rows, one suppressed
    expected = {
        (r["series"], str(r["period_end"])[:10]): r for r in rows if r["value"] is not None
    }  # date or ISO string in, ISO string out
    assert {(p["series"], p["period_end"]) for p in points} == set(expected)
    for p in points:
        row = expected[(p["series"], p["period_end"])]
        assert p["value"] == row["value"] and type(p["value"]) is float
        assert p["lower95"] == row["lower95"] and p["upper95"] == row["upper95"]
    assert 0.0 not in {p["value"] for p in points}
    # A missing interval stays null (Vega-Lite breaks the band) and reads "not available".
    no_ci = [p for p in points if p["lower95"] is None]
    assert len(no_ci) == 2 and all(p["ci_text"] == "not available" for p in no_ci)

    # The Trust A line breaks at the suppressed month: two segments, England one.
    trust = [p for p in points if p["series"] == "Trust A"]
    assert [p["segment"] for p in trust] == [0] * 5 + [1] * 6
    assert {p["segment"] for p in points if p["series"] == "England"} == {0}

    line = layer_with(spec, "line", y="value", detail="segment")
    assert line["encoding"]["x"]["field"] == "plot_date" and line["encoding"]["x"]["type"] == "temporal"
    assert line["encoding"]["color"]["field"] == "series"
    assert line["encoding"]["color"]["scale"]["domain"] == ["Trust A", "England"]
    assert line["encoding"]["color"]["title"]
    band = layer_with(spec, "area", y="lower95", y2="upper95")
    assert band["mark"]["opacity"] < 0.5
    dots = layer_with(spec, "point", y="value")
    assert {t["field"] for t in dots["encoding"]["tooltip"]} >= {"period", "value_text", "ci_text"}
    assert "target" not in spec["datasets"]
    assert "Trust A and England" in spec["description"]


def test_trend_chart_y_axis_follows_the_data_not_zero():
    """A measure near 90% (smoke-free at delivery) must not be a flat line along the top."""
    spec = trend_chart(trend_rows(), unit_label="%", title="Smoke-free")
    for mark in ("line", "area"):
        layer = next(layer for layer in spec["layer"] if layer["mark"]["type"] == mark)
        assert layer["encoding"]["y"]["scale"]["zero"] is False


def test_trend_chart_draws_a_dashed_ambition_trajectory(validator):
    target = [{"period_end": "2022-01-31", "value": 4.0}, {"period_end": date(2022, 12, 31), "value": None}]
    target.append({"period_end": date(2023, 12, 31), "value": 3.0})
    spec = trend_chart(trend_rows(), unit_label="per 1,000", title="Stillbirths", target=target)
    check_spec(spec, validator)

    assert spec["datasets"]["target"] == [
        {
            "series": TARGET_LABEL,
            "period_end": "2022-01-31",
            "plot_date": "2022-01-01",
            "period": "Jan 2022",
            "value": 4.0,
            "value_text": "4.00",
        },
        {
            "series": TARGET_LABEL,
            "period_end": "2023-12-31",
            "plot_date": "2023-12-01",
            "period": "Dec 2023",
            "value": 3.0,
            "value_text": "3.00",
        },
    ]
    target_layers = [layer for layer in spec["layer"] if layer.get("data") == {"name": "target"}]
    assert len(target_layers) == 1
    assert target_layers[0]["mark"]["type"] == "line" and target_layers[0]["mark"]["strokeDash"]
    assert TARGET_LABEL in target_layers[0]["encoding"]["color"]["scale"]["domain"]
    assert "ambition trajectory" in spec["description"]


def test_rolling_points_are_drawn_at_the_end_of_their_window(validator):
    """A 12-month rate for Jan to Dec 2024 is drawn at Dec 2024 and named by its end."""
    rows = [
        {"series": "Trust", "period_start": date(2024, 1, 1), "period_end": date(2024, 12, 31), "value": 5.0},
        {"series": "Trust", "period_start": date(2024, 2, 1), "period_end": date(2025, 1, 31), "value": 6.0},
    ]
    rows = [dict(r, period=period_label("rolling_12m", r["period_start"], r["period_end"])) for r in rows]
    spec = trend_chart(rows, unit_label="per 1,000", title="Stillbirths", period_type="rolling_12m")
    check_spec(spec, validator)
    points = spec["datasets"]["points"]
    assert [(p["plot_date"], p["period"]) for p in points] == [
        ("2024-12-01", "12 months to Dec 2024"),
        ("2025-01-01", "12 months to Jan 2025"),
    ]
    assert layer_with(spec, "line", y="value")["encoding"]["x"]["axis"]["format"] == "%b %Y"


def test_yearly_and_triennial_points_are_labelled_by_year(validator):
    """Calendar years read "2024", not "Jan 2024"; a triennium sits on its last year."""
    rows = [
        {"series": "England", "period_start": date(y - 2, 1, 1), "period_end": date(y, 12, 31), "value": 9.0 + y % 3}
        for y in (2022, 2023, 2024)
    ]
    rows = [dict(r, period=period_label("rolling_3y", r["period_start"], r["period_end"])) for r in rows]
    spec = trend_chart(rows, unit_label="per 100,000", title="Maternal deaths", period_type="rolling_3y")
    check_spec(spec, validator)
    assert [(p["plot_date"], p["period"]) for p in spec["datasets"]["points"]] == [
        ("2022-01-01", "2020–22"),
        ("2023-01-01", "2021–23"),
        ("2024-01-01", "2022–24"),
    ]
    axis = layer_with(spec, "line", y="value")["encoding"]["x"]["axis"]
    assert axis["format"] == "%Y" and axis["tickCount"] == {"interval": "year", "step": 1}
    unlabelled = trend_chart(
        [{k: v for k, v in r.items() if k != "period"} for r in rows], unit_label="u", title="t", period_type="year"
    )
    assert [p["period"] for p in unlabelled["datasets"]["points"]] == ["2022", "2023", "2024"]


# --------------------------------------------------------------------------------------
# SPC
# --------------------------------------------------------------------------------------


def spc_points() -> list[dict[str, Any]]:
    values: list[float | None] = [10, 11, 9, 10, 12, 10, 9, 11, 10, 10, None, 11, 10, 9, 11, 10, 30, 8, 9, 10]
    values += [13, 13.5, 14, 13, 13.2, 13.1, 13.4]  # a shift above the mean
    result = spc(values, improvement="decrease")
    return [
        dict(record, period_start=start) for record, start in zip(result.to_records(), months(len(values)), strict=True)
    ]


def test_spc_chart_keeps_values_and_colours_points_by_type(validator):
    points = spc_points()
    spec = spc_chart(points, unit_label="%", title="Caesarean births")
    check_spec(spec, validator)

    data = spec["datasets"]["points"]
    kept = [p for p in points if p["value"] is not None]
    assert len(data) == len(kept) == len(points) - 1
    for got, want in zip(data, kept, strict=True):
        assert got["period_start"] == want["period_start"].isoformat()
        for key in ("value", "mean", "lpl", "upl", "point_type", "special_cause", "rule"):
            assert got[key] == want[key], key
    # The example has both kinds of special cause, so the legend has both.
    types = {p["point_type"] for p in data}
    assert {"common_cause", "special_cause_concern"} <= types
    assert any(p["rule"] == "outside_limits" for p in data) and any(p["rule"] == "run" for p in data)

    dots = layer_with(spec, "point", y="value")
    colour = dots["encoding"]["color"]
    assert colour["field"] == "variation" and colour["title"] == "Variation"
    palette = dict(zip(colour["scale"]["domain"], colour["scale"]["range"], strict=True))
    for p in data:
        assert palette[p["variation"]] == POINT_TYPES[p["point_type"]][1]
    assert palette[POINT_TYPES["common_cause"][0]] == MDC_COLOURS["common_cause"]
    assert palette[POINT_TYPES["special_cause_concern"][0]] == MDC_COLOURS["concern"]
    assert dots["encoding"]["shape"]["field"] == "variation"  # colour is not the only cue
    assert "rule_text" in {t["field"] for t in dots["encoding"]["tooltip"]}
    for p in data:
        assert p["rule_text"] == RULE_TEXT[p["rule"]]

    mean = layer_with(spec, "line", y="mean")
    assert "strokeDash" not in mean["mark"]
    for limit in ("upl", "lpl"):
        assert layer_with(spec, "line", y=limit)["mark"]["strokeDash"]


def test_spc_rule_text_covers_every_rule_and_short_point_type_names_work(validator):
    assert set(RULES) | {""} == set(RULE_TEXT)
    points = [
        {"period_start": "2024-01-01", "value": 1.0, "mean": 2.0, "lpl": 0.0, "upl": 4.0, "point_type": "improvement"},
        {"period_start": "2024-02-01", "value": 3.0, "mean": 2.0, "lpl": 0.0, "upl": 4.0, "point_type": "neutral_high"},
    ]
    spec = spc_chart(points, unit_label="u", title="t")
    check_spec(spec, validator)
    assert [p["point_type"] for p in spec["datasets"]["points"]] == [
        "special_cause_improvement",
        "special_cause_neutral_high",
    ]
    with pytest.raises(ValueError, match="point_type"):
        spc_chart([dict(points[0], point_type="good")], unit_label="u", title="t")


# --------------------------------------------------------------------------------------
# Funnel
# --------------------------------------------------------------------------------------


def funnel_inputs() -> tuple[list[dict[str, Any]], list[dict[str, float]]]:
    numerators = [30, 45, 80, 20, 150, 60, 0]
    denominators = [100, 200, 250, 120, 400, 180, 0]  # the last has no births: not applicable
    result = funnel(numerators, denominators, "proportion", 100)
    points = [
        {
            "org_code": f"R{i}",
            "org_name": f"Trust {i}",
            "denominator": float(denominators[i]),
            "value": None if result.position[i] == "not_applicable" else float(result.value[i]),
            "href": f"/organisations/R{i}",
            "position": str(result.position[i]),
        }
        for i in range(len(numerators))
    ]
    return points, result.curve(50).to_records()


def test_funnel_chart_points_are_links_and_the_highlight_marks_one_org(validator):
    points, curve = funnel_inputs()
    spec = funnel_chart(
        points,
        curve,
        unit_label="Caesarean births (%)",
        title="Caesarean",
        direction="higher_is_better",
        highlight="R2",
    )
    check_spec(spec, validator)

    data = spec["datasets"]["points"]
    assert [p["org_code"] for p in data] == [f"R{i}" for i in range(6)]  # R6 not applicable: left out
    for got, want in zip(data, points, strict=False):
        assert (got["value"], got["denominator"], got["position"]) == (
            want["value"],
            want["denominator"],
            want["position"],
        )
        assert got["href"] == want["href"]
        assert got["position_label"] == funnel_position_text(want["position"], "higher_is_better")

    dots = next(layer for layer in spec["layer"] if layer.get("data") == {"name": "points"})
    assert dots["encoding"]["href"] == {"field": "href", "type": "nominal"}
    assert {t["field"] for t in dots["encoding"]["tooltip"]} >= {
        "org_name",
        "value_text",
        "denominator_text",
        "position_label",
    }

    assert [p["org_code"] for p in data if p["highlighted"]] == ["R2"]
    assert [p["org_code"] for p in spec["datasets"]["highlight"]] == ["R2"]
    ring = [layer for layer in spec["layer"] if layer.get("data") == {"name": "highlight"}]
    assert {layer["mark"]["type"] for layer in ring} == {"point", "text"}
    ring_mark = next(layer["mark"] for layer in ring if layer["mark"]["type"] == "point")
    assert ring_mark["size"] > dots["mark"]["size"] and ring_mark["strokeWidth"] > dots["mark"]["strokeWidth"]
    assert "Trust 2 is ringed" in spec["description"]


def test_funnel_curve_lines_match_the_curve(validator):
    points, curve = funnel_inputs()
    spec = funnel_chart(points, curve, unit_label="%", title="t", direction="lower_is_better")
    check_spec(spec, validator)
    assert "highlight" not in spec["datasets"]
    assert not any(p["highlighted"] for p in spec["datasets"]["points"])

    lines = spec["datasets"]["curve"]
    assert len(lines) == 5 * len(curve)
    by_line = {(r["line"], r["side"], r["denominator"]): r["limit"] for r in lines}
    for row in curve:
        n = row["denominator"]
        assert by_line[("95% control limits", "upper", n)] == row["upper_95"]
        assert by_line[("95% control limits", "lower", n)] == row["lower_95"]
        assert by_line[("99.8% control limits", "upper", n)] == row["upper_998"]
        assert by_line[("99.8% control limits", "lower", n)] == row["lower_998"]
        assert by_line[("Average (centre line)", "centre", n)] == row["baseline"]
    layer = next(layer for layer in spec["layer"] if layer.get("data") == {"name": "curve"})
    dash = layer["encoding"]["strokeDash"]["scale"]
    dashes = dict(zip(dash["domain"], dash["range"], strict=True))
    assert dashes["95% control limits"] == [6, 4] and dashes["99.8% control limits"] == [1, 0]
    assert layer["encoding"]["strokeDash"]["title"] == "Lines"


def test_funnel_accepts_brief_curve_names_and_rejects_script_links():
    points, _ = funnel_inputs()
    curve = [
        {"denominator": 100.0, "centre": 40.0, "lower95": 30.0, "upper95": 50.0, "lower998": 25.0, "upper998": 55.0}
    ]
    spec = funnel_chart(points, curve, unit_label="%", title="t", direction="lower_is_better")
    assert {r["limit"] for r in spec["datasets"]["curve"]} == {40.0, 30.0, 50.0, 25.0, 55.0}
    bad = [dict(points[0], href="javascript:alert(1)")]
    with pytest.raises(ValueError, match="href"):
        funnel_chart(bad, curve, unit_label="%", title="t", direction="lower_is_better")


@pytest.mark.parametrize(
    ("position", "direction", "judgement", "words"),
    [
        ("above_998", "higher_is_better", "better_998", "Better than expected (above the 99.8% limit)"),
        ("above_998", "lower_is_better", "worse_998", "Worse than expected (above the 99.8% limit)"),
        ("above_95", "lower_is_better", "worse_95", "Possibly worse than expected (above the 95% limit)"),
        ("below_95", "lower_is_better", "better_95", "Possibly better than expected (below the 95% limit)"),
        ("below_998", "higher_is_better", "worse_998", "Worse than expected (below the 99.8% limit)"),
        ("within", "higher_is_better", "within", "As expected (within the 95% limits)"),
    ],
)
def test_funnel_positions_are_judged_by_the_measure_direction(position, direction, judgement, words):
    """Above the 99.8% limit is good news for continuity of carer and bad news for stillbirth."""
    assert funnel_judgement(position, direction) == judgement
    assert funnel_position_text(position, direction) == words
    with pytest.raises(ValueError, match="direction"):
        funnel_judgement(position, "up")


def test_funnel_chart_colours_and_shapes_follow_better_and_worse(validator):
    points, curve = funnel_inputs()
    for direction in ("higher_is_better", "lower_is_better"):
        spec = funnel_chart(points, curve, unit_label="%", title="t", direction=direction)
        check_spec(spec, validator)
        dots = next(layer for layer in spec["layer"] if layer.get("data") == {"name": "points"})
        fill, shape = dots["encoding"]["fill"]["scale"], dots["encoding"]["shape"]["scale"]
        fills = dict(zip(fill["domain"], fill["range"], strict=True))
        shapes = dict(zip(shape["domain"], shape["range"], strict=True))
        for p in spec["datasets"]["points"]:
            assert p["judgement"] == funnel_judgement(p["position"], direction)
            words, fill, shape, _ = FUNNEL_JUDGEMENTS[p["judgement"]]
            assert (p["judgement_label"], fills[words], shapes[words]) == (words, fill, shape)
        judged = {p["org_code"]: p["judgement"] for p in spec["datasets"]["points"]}
        # R3 is below the 99.8% limit and R4 above the 95% limit (see funnel_inputs).
        if direction == "higher_is_better":
            assert (judged["R3"], judged["R4"]) == ("worse_998", "better_95")
        else:
            assert (judged["R3"], judged["R4"]) == ("better_998", "worse_95")


# --------------------------------------------------------------------------------------
# Inequalities
# --------------------------------------------------------------------------------------


def test_inequality_chart_keeps_the_given_order(validator):
    rows = [
        {"group": "White", "value": 3.5, "lower95": 3.0, "upper95": 4.0, "ratio": None, "reference_group": "White"},
        {"group": "Black", "value": 7.1, "lower95": 5.9, "upper95": 8.4, "ratio": 2.03, "reference_group": "White"},
        {"group": "Mixed", "value": None, "lower95": None, "upper95": None, "reference_group": "White"},
        {"group": "Asian", "value": 5.2, "lower95": 4.5, "upper95": 6.0, "rate_ratio": 1.49},
    ]
    spec = inequality_chart(rows, unit_label="per 1,000", title="By ethnic group")
    check_spec(spec, validator)

    data = spec["datasets"]["points"]
    assert [p["group"] for p in data] == ["White", "Black", "Asian"]
    assert [(p["value"], p["lower95"], p["upper95"]) for p in data] == [
        (3.5, 3.0, 4.0),
        (7.1, 5.9, 8.4),
        (5.2, 4.5, 6.0),
    ]
    assert [p["rate_ratio"] for p in data] == [None, 2.03, 1.49]

    dots = layer_with(spec, "point", x="value")
    assert dots["encoding"]["y"]["field"] == "group_label"
    assert dots["encoding"]["y"]["sort"] == ["White (reference)", "Black", "Asian"]
    whisker = layer_with(spec, "rule", x="lower95", x2="upper95")
    assert whisker["encoding"]["y"]["field"] == "group_label"
    assert spec["datasets"]["reference"] == [{"value": 3.5}]
    assert "ratio_text" in {t["field"] for t in dots["encoding"]["tooltip"]}


# --------------------------------------------------------------------------------------
# No data
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "build",
    [
        lambda rows: trend_chart(rows, unit_label="u", title="t"),
        lambda rows: spc_chart(rows, unit_label="u", title="t"),
        lambda rows: funnel_chart(rows, [], unit_label="u", title="t", direction="lower_is_better"),
        lambda rows: inequality_chart(rows, unit_label="u", title="t"),
    ],
    ids=["trend", "spc", "funnel", "inequality"],
)
@pytest.mark.parametrize("rows", [[], None, "all_suppressed"])
def test_nothing_to_plot_raises_no_data(build, rows):
    if rows == "all_suppressed":
        rows = [
            {
                "period_start": "2024-01-01",
                "period_end": "2024-01-31",
                "value": None,
                "series": "A",
                "group": "G",
                "position": "within",
                "denominator": 5,
            }
        ]
    with pytest.raises(NoDataError, match="no points to plot"):
        build(rows)

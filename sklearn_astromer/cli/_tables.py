"""Columns of a long table (one row per observation) and checks of their values."""

from dataclasses import dataclass

from ._common import excerpt

DEFAULT_ERR_COLUMN = "err"


@dataclass
class TableColumns:
    """Column names of a long table; ``err=None`` reads no error column."""

    object_id: str = "object_id"
    time: str = "time"
    mag: str = "mag"
    err: str = None
    err_required: bool = False
    keep: tuple = ()
    band: str = None
    bands: tuple = None

    def kept(self, available, source):
        """The per-object columns to carry to the output (``keep``), each checked present."""
        missing = [name for name in self.keep if name not in list(available)]
        if missing:
            raise ValueError(f"{source}: --keep-columns {missing} not in the table (columns: "
                             f"{list(available)}).")
        reserved = {self.object_id, self.time, self.mag, self.err, self.band}
        clashing = [name for name in self.keep if name in reserved]
        if clashing:
            raise ValueError(f"--keep-columns {clashing}: the id, time, magnitude and error "
                             "columns are not per-object columns.")
        return list(self.keep)

    def io_columns(self, available, source):
        """Keyword arguments of the :mod:`sklearn_astromer.io` readers for a table.

        Parameters
        ----------
        available : iterable of str
            The table's columns.
        source : path-like
            Named in the message when a needed column is missing.

        Returns
        -------
        dict
            ``id_col``, ``time_col``, ``mag_col`` and ``err_col`` (None when
            the optional error column is absent); ``band_col`` and ``bands``
            for a multi-band table.
        """
        available = list(available)
        needed = [self.object_id, self.time, self.mag] + ([self.band] if self.band else [])
        if self.err_required:
            needed.append(self.err)
        missing = [name for name in needed if name not in available]
        if missing:
            hint = _delimiter_hint(available) or (
                "name the columns with --id-column/--time-column/--mag-column/--err-column.")
            raise ValueError(f"{source}: no column {', '.join(map(repr, missing))} "
                             f"(columns: {available}); {hint}")
        err = self.err if self.err in available else None
        columns = dict(id_col=self.object_id, time_col=self.time, mag_col=self.mag, err_col=err)
        if self.band:
            columns.update(band_col=self.band, bands=list(self.bands))
        return columns


def read_columns(io_columns):
    """The table columns that :meth:`TableColumns.io_columns` names (to read them)."""
    return [io_columns[key] for key in ("id_col", "time_col", "mag_col", "err_col", "band_col")
            if io_columns.get(key) is not None]


def _delimiter_hint(header):
    """A hint when a table read as comma-separated has one column whose name holds another
    delimiter (a semicolon-separated file, say), else ''."""
    if len(header) != 1:
        return ""
    for delimiter, name in ((";", "semicolons"), ("|", "'|'"), (" ", "spaces")):
        if delimiter in str(header[0]):
            return (f"the header looks separated by {name}, not commas: save the file as "
                    "comma-separated .csv (or tab-separated .tsv).")
    return ""


def check_table_values(frame, io_columns, locate):
    """Check a block of a long table: ids present, values numeric; name the row at fault.

    Missing values (NaN) are fine: the estimator drops those observations with
    a :class:`~sklearn_astromer.LightCurveRepairWarning` and rejects objects
    left empty.

    Parameters
    ----------
    frame : pandas.DataFrame
    io_columns : dict
        ``id_col``, ``time_col``, ``mag_col``, ``err_col`` (None: no error column).
    locate : callable
        ``locate(i)`` names row ``i`` of ``frame`` in messages, e.g.
        ``"table.csv, line 12"``.

    Returns
    -------
    pandas.DataFrame
        ``frame`` with numeric (float64) value columns.
    """
    import pandas as pd

    missing_id = frame[io_columns["id_col"]].isna().to_numpy()
    if missing_id.any():
        raise ValueError(f"{locate(missing_id.argmax())}: the object id "
                         f"({io_columns['id_col']!r}) is missing.")
    converted = {}
    for key in ("time_col", "mag_col", "err_col"):
        name = io_columns[key]
        if name is None:
            continue
        raw = frame[name]
        numbers = pd.to_numeric(raw, errors="coerce").astype(float)
        bad = (numbers.isna() & raw.notna()).to_numpy()
        if bad.any():
            row = bad.argmax()
            raise ValueError(f"{locate(row)}: column {name!r} holds "
                             f"{excerpt(repr(raw.iloc[row]))}, not a number.")
        converted[name] = numbers
    return frame.assign(**converted)

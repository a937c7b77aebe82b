"""Long CSV/TSV tables: every damaged file is a ValueError naming the file and the line."""

import gzip
import re

import numpy as np
import pytest

from sklearn_astromer.cli._csv import read_long_csv
from sklearn_astromer.cli._tables import TableColumns

pytest.importorskip("pandas")

GOOD = "object_id,time,mag,err\nb,2,15.2,0.1\na,1,17.0,0.1\nb,1,15.1,0.1\n"
COLUMNS = TableColumns(err="err")


def _read(path):
    ids, light_curves, per_object = read_long_csv(path, COLUMNS)
    assert per_object is None  # no --keep-columns
    return ids, light_curves


def _refused(path, message):
    with pytest.raises(ValueError, match=message) as error:
        _read(path)
    assert str(path) in str(error.value)
    return str(error.value)


def test_good_table_objects_in_first_appearance_order(tmp_path):
    (tmp_path / "t.csv").write_text(GOOD)
    ids, curves = _read(tmp_path / "t.csv")
    assert ids.tolist() == ["b", "a"]
    np.testing.assert_array_equal(curves[0], [[1, 15.1, 0.1], [2, 15.2, 0.1]])


def test_gzip_and_tsv_and_utf8_bom_are_read(tmp_path):
    (tmp_path / "t.tsv.gz").write_bytes(gzip.compress(GOOD.replace(",", "\t").encode()))
    (tmp_path / "bom.csv").write_bytes(b"\xef\xbb\xbf" + GOOD.encode())
    for name in ("t.tsv.gz", "bom.csv"):
        assert _read(tmp_path / name)[0].tolist() == ["b", "a"]


def test_empty_file(tmp_path):
    (tmp_path / "empty.csv").write_text("")
    _refused(tmp_path / "empty.csv", "the file is empty")


def test_header_only_gives_no_light_curve(tmp_path):
    (tmp_path / "header.csv").write_text("object_id,time,mag\n")
    ids, curves = _read(tmp_path / "header.csv")
    assert len(ids) == 0 and curves == []


@pytest.mark.parametrize("encoding", ["latin-1", "utf-16"])
def test_text_that_is_not_utf8_names_the_line(tmp_path, encoding):
    text = GOOD + "étoile,3,15.0,0.1\n"
    (tmp_path / "odd.csv").write_bytes(text.encode(encoding))
    line = 5 if encoding == "latin-1" else 1
    _refused(tmp_path / "odd.csv", rf"odd.csv, line {line}: not UTF-8 text \(byte 0x..\); "
                                   "save the file as UTF-8")


def test_fake_and_truncated_and_corrupt_gzip(tmp_path):
    (tmp_path / "fake.csv.gz").write_text(GOOD)
    _refused(tmp_path / "fake.csv.gz", "not a readable gzip file")
    packed = gzip.compress((GOOD * 200).encode())
    (tmp_path / "cut.csv.gz").write_bytes(packed[:len(packed) // 2])
    _refused(tmp_path / "cut.csv.gz", "not a readable gzip file")
    flipped = bytearray(packed)
    flipped[len(packed) // 2] ^= 0xFF
    (tmp_path / "flip.csv.gz").write_bytes(bytes(flipped))
    with pytest.raises(ValueError, match="flip.csv.gz"):
        _read(tmp_path / "flip.csv.gz")


def test_row_with_an_extra_field_is_refused_naming_its_line(tmp_path):
    (tmp_path / "extra.csv").write_text(GOOD + "\n\na,3,15.0,0.1,99\nb,4,15,0.1\n")
    _refused(tmp_path / "extra.csv", re.escape("extra.csv, line 7: 5 fields where the header "
                                               "has 4."))


def test_every_row_with_an_extra_field_is_refused_naming_the_first(tmp_path):
    # pandas only warns there, and drops the extra fields.
    (tmp_path / "all.csv").write_text("object_id,time,mag\n\na,3,15.0,99\na,4,15.0,99\n")
    _refused(tmp_path / "all.csv", re.escape("all.csv, line 3: 4 fields where the header has 3."))


def test_bad_value_names_the_line_across_blank_lines_and_quoted_newlines(tmp_path):
    text = ('object_id,time,mag,err\n"multi\nline id",1,15,0.1\n\nb,2,15,0.1\n'
            "b,3,bright,0.1\n")
    (tmp_path / "bad.csv").write_text(text)
    _refused(tmp_path / "bad.csv", re.escape("bad.csv, line 6: column 'mag' holds 'bright', "
                                             "not a number."))


def test_long_bad_cell_is_cut_in_the_message(tmp_path):
    (tmp_path / "long.csv").write_text("object_id,time,mag\na,1," + "x" * 5000 + "\n")
    message = _refused(tmp_path / "long.csv", "line 2: column 'mag' holds 'xxx")
    assert len(message) < 300


def test_missing_id_and_missing_column(tmp_path):
    (tmp_path / "noid.csv").write_text("object_id,time,mag\na,1,15\n,2,15\n")
    _refused(tmp_path / "noid.csv", r"noid.csv, line 3: the object id \('object_id'\) is missing")
    (tmp_path / "nomag.csv").write_text("object_id,time,R\na,1,15\n")
    _refused(tmp_path / "nomag.csv", "no column 'mag'")


def test_ids_that_look_missing_are_names_and_value_words_are_missing(tmp_path):
    (tmp_path / "t.csv").write_text("object_id,time,mag\nNA,1,15\nnull,1,16\nNA,2,NA\n")
    ids, curves = _read(tmp_path / "t.csv")
    assert ids.tolist() == ["NA", "null"]
    assert np.isnan(curves[0][1, 1]) and curves[0][0, 1] == 15


@pytest.mark.parametrize("separator, name", [(";", "semicolons"), ("|", "'|'")])
def test_a_table_with_another_delimiter_gets_a_hint(tmp_path, separator, name):
    (tmp_path / "other.csv").write_text(separator.join(["object_id", "time", "mag"])
                                        + "\n" + separator.join(["a", "1", "15"]) + "\n")
    _refused(tmp_path / "other.csv", f"the header looks separated by {re.escape(name)}")

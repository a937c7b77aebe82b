"""One light curve per text file: header, comments, damaged lines."""

import numpy as np
import pytest

from sklearn_astromer.cli._text_files import read_light_curve_file


def test_comments_header_and_extra_columns(tmp_path):
    (tmp_path / "a.dat").write_text("# from the survey\nmjd,mag,err,flag\n1,15.0,0.1,0\n"
                                    "2,15.5,0.1,1\n")
    np.testing.assert_array_equal(read_light_curve_file(tmp_path / "a.dat"),
                                  [[1, 15.0, 0.1], [2, 15.5, 0.1]])


@pytest.mark.parametrize("text, message", [
    ("0.0 bright 0.1\n1.0 15.0 0.1\n", r"a.dat, line 1: cannot read '0.0 bright 0.1'"),
    ("t m e\n1 15 0.1\n2 15\n", r"a.dat, line 3: cannot read '2 15' as 3 numbers"),
    ("# only a comment\n", "a.dat: no observations"),
    ("time mag\n", "a.dat: no observations"),
    ("1\n2\n", r"a.dat, line 1: expected at least two columns"),
    ("1 " + "9" * 500 + "x 0.1\n", r"a.dat, line 1: cannot read '1 9999.*\.\.\. as"),
])
def test_damaged_files_name_the_line(tmp_path, text, message):
    (tmp_path / "a.dat").write_text(text)
    with pytest.raises(ValueError, match=message):
        read_light_curve_file(tmp_path / "a.dat")


def test_bytes_that_are_not_utf8_only_spoil_their_line(tmp_path):
    (tmp_path / "a.dat").write_bytes(b"# caf\xe9\n1 15 0.1\n2 15.5 0.1\n")
    assert read_light_curve_file(tmp_path / "a.dat").shape == (2, 3)
    (tmp_path / "a.dat").write_bytes(b"1 15 0.1\n2 1\xe95 0.1\n")
    with pytest.raises(ValueError, match="line 2"):
        read_light_curve_file(tmp_path / "a.dat")

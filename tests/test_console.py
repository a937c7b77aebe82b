"""Epoch logs: colour codes only on a terminal."""

import io

from sklearn_astromer._console import print_plain_off_terminal

COLOURED = "\x1b[36m0.5000\x1b[0m"


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_colour_codes_are_kept_on_a_terminal_and_removed_elsewhere(monkeypatch):
    for stream, expected in ((_Terminal(), COLOURED), (io.StringIO(), "0.5000")):
        monkeypatch.setattr("sys.stdout", stream)
        print_plain_off_terminal(COLOURED)
        assert stream.getvalue() == expected + "\n"

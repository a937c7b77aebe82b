"""A small progress line on stderr (no dependency, no thread)."""

import sys
import time


class Progress:
    """Report ``done / total unit`` with a rate.

    On a terminal the line is redrawn in place; otherwise (a log file, a
    pipe) one line is written per update at most every ``interval`` seconds.

    Parameters
    ----------
    total : int or None
        Size of the job in ``unit``; None when unknown.
    unit : str
        What is counted (``"objects"``, ``"rows"``, ``"files"``).
    label : str
        Leading word of the line.
    stream : file, default=sys.stderr
    enabled : bool, default=True
    interval : float, default=5.0
        Seconds between lines when the stream is not a terminal.
    """

    def __init__(self, total, unit, label, *, stream=None, enabled=True, interval=5.0):
        self.total = total
        self.unit = unit
        self.label = label
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.interval = interval
        self.start = time.perf_counter()
        self._last_line = -float("inf")
        self._last_done = None
        self._tty = hasattr(self.stream, "isatty") and self.stream.isatty()

    def update(self, done, *, final=False):
        """Show that ``done`` units are finished."""
        if not self.enabled:
            return
        now = time.perf_counter()
        if not (self._tty or final or now - self._last_line >= self.interval):
            return
        if final and done == self._last_done and not self._tty:
            return  # that line is already on the log
        self._last_line, self._last_done = now, done
        elapsed = now - self.start
        rate = done / elapsed if elapsed > 0 else 0.0
        share = f" ({100 * done / self.total:.0f}%)" if self.total else ""
        of_total = f"/{self.total:,}" if self.total else ""
        line = (f"{self.label}: {done:,}{of_total} {self.unit}{share}, "
                f"{elapsed:.0f} s, {rate:,.0f} {self.unit}/s")
        end = "\n" if final or not self._tty else ""
        print(("\r" if self._tty else "") + line, end=end, file=self.stream, flush=True)

    def close(self, done):
        """Print the final line."""
        self.update(done, final=True)

"""benchmarks/gpu_check.py stays alive on the CPU: its CPU half runs, its GPU parts say so."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "gpu_check.py"


@pytest.mark.slow
def test_gpu_check_runs_on_the_cpu_and_names_what_it_skipped(tmp_path):
    env = dict(os.environ, CUDA_VISIBLE_DEVICES="", SKLEARN_ASTROMER_BENCHMARK_RESULTS=str(
        tmp_path))
    completed = subprocess.run([sys.executable, str(SCRIPT), "--quick"], env=env,
                               capture_output=True, text=True, timeout=600)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    lines = completed.stdout.splitlines()
    assert "ok: MACHO transform on the CPU is finite" in lines
    assert "ok: period search on the CPU finds periods" in lines
    assert sum(line.startswith("skipped: ") and "no CUDA device" in line for line in lines) == 4
    result = json.loads((tmp_path / "gpu_check_quick.json").read_text())
    assert result["results"]["cuda"] is False and result["results"]["cpu_float32_curves_per_s"] > 0

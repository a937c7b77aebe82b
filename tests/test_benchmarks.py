"""Smoke runs of the benchmark scripts (``benchmarks/``), so they never rot.

Every ``bench_*.py`` (found by name, so a new one is covered at once) runs
with ``--quick`` in a fresh process and must write ``<name>_quick.json`` into
a temporary directory (``SKLEARN_ASTROMER_BENCHMARK_RESULTS``), never into the
committed ``benchmarks/results``.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
SCRIPTS = sorted(path.name for path in BENCHMARKS.glob("bench_*.py"))
NEEDS_SHARED_DATA = {"bench_fidelity.py", "bench_real.py"}
# Keys the quick JSON of some scripts must have (every one has "environment").
EXPECTED_KEYS = {
    "bench_classification.py": ("params", "surveys"),
    "bench_ablation.py": ("variants", "baselines"),
    "bench_pretrain.py": ("pretrain", "rmse_ratio", "classification"),
    "bench_fidelity.py": ("ours_pooled", "original_pooled"),
    "bench_multimodal.py": ("summary", "retrieval", "targets", "runs"),
    "bench_real.py": ("classification", "novelty", "retrieval", "pretraining"),
    "bench_multiband.py": ("results", "timing", "classes"),
    "bench_onnx.py": ("results", "threads"),
    "bench_periods.py": ("period_search", "transform_curves_per_s"),
    "bench_profile.py": ("seconds_by_group", "encoder_product_gflops"),
    "bench_steady_state.py": ("ours", "original", "roofline_fraction"),
}


def run_script(name, results_dir, *args, shared_data=None, timeout=600):
    env = dict(os.environ, SKLEARN_ASTROMER_BENCHMARK_RESULTS=str(results_dir),
               MPLBACKEND="Agg")
    if shared_data is not None:
        env["SKLEARN_ASTROMER_SHARED_DATA"] = str(shared_data)
    completed = subprocess.run(
        [sys.executable, str(BENCHMARKS / name), *args], cwd=BENCHMARKS.parent, env=env,
        capture_output=True, text=True, timeout=timeout,
    )
    assert completed.returncode == 0, f"{name} failed:\n{completed.stdout}\n{completed.stderr}"
    return completed


def test_benchmark_scripts_are_found():
    assert {"bench_classification.py", "bench_fidelity.py"} <= set(SCRIPTS)


@pytest.mark.slow
@pytest.mark.parametrize("script", SCRIPTS)
def test_benchmark_quick_mode_writes_its_result(script, tmp_path, request):
    shared_data = request.getfixturevalue("shared_data") if script in NEEDS_SHARED_DATA else None
    run_script(script, tmp_path, "--quick", shared_data=shared_data)
    name = script.removeprefix("bench_").removesuffix(".py")
    result = json.loads((tmp_path / f"{name}_quick.json").read_text())
    for key in EXPECTED_KEYS.get(script, ()):
        assert key in result
    assert result["environment"]["versions"]["torch"]
    assert result["mode"] == "quick"


def test_training_subsets_are_stratified_and_differ_between_folds():
    """80/20 train/validation per class, disjoint; another fold draws another subset."""
    sys.path.insert(0, str(BENCHMARKS))
    try:
        import bench_classification
    finally:
        sys.path.remove(str(BENCHMARKS))
    config = bench_classification.QUICK
    labels = np.repeat(["A", "B", "C"], 50)
    train, valid = bench_classification.draw_subset(labels, 20, 0, config)
    assert len(train) == 3 * 16 and len(valid) == 3 * 4
    assert all(np.sum(labels[train] == label) == 16 for label in "ABC")
    assert not set(train) & set(valid)
    other_fold = bench_classification.draw_subset(labels, 20, 1, config)[0]
    assert set(other_fold) != set(train)


def test_plots_and_run_all_from_results(tmp_path):
    classification = {
        "mode": "quick", "params": {"n_folds": 1},
        "surveys": {"ztf": {"classes": ["A", "B"], "n_test": 4, "results": {
            "features+RF": {"20": {"f1_mean": 0.8, "f1_sd": 0.0},
                            "50": {"f1_mean": 0.9, "f1_sd": 0.1}},
            "pretrained+RF": {"20": {"f1_mean": 0.5, "f1_sd": 0.0},
                              "50": {"f1_mean": 0.6, "f1_sd": 0.1}},
        }}},
    }
    speed = {"mode": "quick", "transform_curves_per_s": {"paper": {"50": 300.0, "200": 90.0}},
             "fit_windows_per_s": {"paper": 40.0}, "environment": {"machine": {"cores": 2}}}
    (tmp_path / "classification_quick.json").write_text(json.dumps(classification))
    (tmp_path / "speed_quick.json").write_text(json.dumps(speed))
    # run_all with no benchmark selected runs only the plots.
    run_script("run_all.py", tmp_path, "--quick", "--only", "none")
    for name in ("classification_quick.png", "speed_quick.png"):
        assert (tmp_path / name).stat().st_size > 10_000
    assert "| features+RF | **0.800 ± 0.000** |" in (
        tmp_path / "classification_quick.md").read_text()

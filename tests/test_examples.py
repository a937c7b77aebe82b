"""Every script in examples/ runs with --quick, says what it is doing, and prints its result."""

import importlib.util
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# Script -> a line fragment its output must hold.
EXAMPLES = {
    "classification_few_labels.py": "macro F1 on",
    "anomaly_detection.py": "ROC AUC of the anomaly score",
    "similarity_search.py": "precision at 5",
    "fine_tune_own_survey.py": "identical embeddings: True",
    "multimodal.py": "top-1 retrieval",
}
# Script -> the stage it announces before its (long, without --quick) training.
STAGES = {
    "classification_few_labels.py": "pre-training ASTROMER on",
    "anomaly_detection.py": "training the embedder",
    "similarity_search.py": "training ASTROMER on",
    "fine_tune_own_survey.py": "fine-tuning on",
    "multimodal.py": "CLIP pre-training on",
}
# Each example is mostly one thread of small tensors: two at a time halve the wall time.
WORKERS = 2


def _run(script):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [
        str(ROOT), os.environ.get("PYTHONPATH")])), "MPLBACKEND": "Agg",
        "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, str(ROOT / "examples" / script), "--quick"],
                          capture_output=True, text=True, env=env, timeout=600, cwd=ROOT)


def _available(script):
    if script == "multimodal.py":
        return importlib.util.find_spec("sklearn_astromer.multimodal") is not None
    return True


@pytest.fixture(scope="module")
def runs():
    scripts = [script for script in EXAMPLES if _available(script)]
    with ThreadPoolExecutor(WORKERS) as pool:
        return dict(zip(scripts, pool.map(_run, scripts)))


def test_every_example_is_tested():
    assert {path.name for path in (ROOT / "examples").glob("*.py")} == set(EXAMPLES)


@pytest.mark.slow
@pytest.mark.parametrize("script", EXAMPLES)
def test_example_runs_quick(runs, script):
    if not _available(script):
        pytest.skip("MultimodalCLIPEmbedder (sklearn_astromer.multimodal) is not available")
    result = runs[script]
    assert result.returncode == 0, result.stderr[-3000:]
    assert EXAMPLES[script] in result.stdout, result.stdout
    assert 0 <= result.stdout.find(STAGES[script]) < result.stdout.find(EXAMPLES[script])

"""The Catalina (CRTS) set of the real-data benchmark: folds, subsets and per-fold models.

Light curves: ``lightcurves/crts/crts_train.npz`` of the shared data (5,757
real Catalina light curves of 16 classes, Drake et al. 2014). The benchmark's
classes are the nine with at least 100 stars. Their stars are cut into
``n_folds`` stratified folds; fold ``k``'s stars are its test stars, and
everything else (the other folds' stars and every star of the small classes)
is the fold's pool: unlabelled light curves for pre-training, and the stars
the labelled subsets are drawn from. A test star is never seen in
pre-training, self-supervised or supervised fine-tuning.

Pre-trained models and the fold-independent representations are cached under
``benchmarks/.cache/real/`` by a digest of their recipe and training stars,
so that a re-run reuses them; delete the folder to compute them again.
"""

import hashlib
import json
import time
from pathlib import Path

import numpy as np
from _common import BENCHMARKS_DIR, SHARED_DATA
from sklearn.model_selection import StratifiedKFold

from sklearn_astromer import AstromerEmbedder
from sklearn_astromer.datasets import load_catalina

CRTS_FILE = SHARED_DATA / "lightcurves" / "crts" / "crts_train.npz"
CACHE_DIR = BENCHMARKS_DIR / ".cache" / "real"
#: The classes with at least 100 stars in the shared half.
CLASSES = ("EA", "EW", "RRab", "RRc", "RS_CVn", "LPV", "RRd", "beta_lyrae", "HADS")


def load(classes=CLASSES, max_per_class=None, seed=0):
    """``(curves, labels, benchmark)``: every light curve, its label, and whether it is of ``classes``.

    ``max_per_class`` keeps at most that many stars of each class (a random
    draw; the quick mode's small set).
    """
    curves, labels = load_catalina(CRTS_FILE)
    if max_per_class is not None:
        rng = np.random.default_rng(seed)
        keep = np.concatenate([rng.permutation(np.flatnonzero(labels == label))[:max_per_class]
                               for label in np.unique(labels)])
        keep.sort()
        curves, labels = [curves[i] for i in keep], labels[keep]
    return curves, labels, np.isin(labels, classes)


def test_folds(labels, in_benchmark, n_folds, seed):
    """Test-star indices of each fold: stratified over the benchmark's classes."""
    candidates = np.flatnonzero(in_benchmark)
    splitter = StratifiedKFold(n_folds, shuffle=True, random_state=seed)
    return [candidates[test] for _, test in splitter.split(candidates, labels[candidates])]


def pool_of(n_curves, test):
    """Every light curve that is not a test star of the fold."""
    return np.setdiff1d(np.arange(n_curves), test)


def draw_subset(labels, pool, size, fold, classes, validation_share, seed):
    """Stratified ``size``-per-class subset of ``pool`` over ``classes``, split (train, valid)."""
    rng = np.random.default_rng([seed, size, fold])
    n_valid = int(round(size * validation_share))
    train, valid = [], []
    for label in classes:
        members = rng.permutation(pool[labels[pool] == label])[:size]
        valid.append(members[:n_valid])
        train.append(members[n_valid:])
    return np.concatenate(train), np.concatenate(valid)


def classes_with(labels, pool, size, classes):
    """The benchmark's classes with at least ``size`` stars in ``pool``."""
    counts = {label: int(np.sum(labels[pool] == label)) for label in classes}
    return [label for label in classes if counts[label] >= size]


def _digest(recipe, members):
    text = json.dumps(recipe, sort_keys=True) + np.asarray(members, np.int64).tobytes().hex()
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def cached_arrays(name, key, compute, cache_dir=CACHE_DIR, log=print):
    """``compute()`` (a dict of arrays), saved under ``name`` and ``key`` and reused afterwards."""
    path = Path(cache_dir) / f"{name}-{_digest(key, [])}.npz"
    if path.exists():
        log(f"{name}: reused from {path}")
        with np.load(path, allow_pickle=False) as archive:
            return {item: archive[item] for item in archive.files}
    arrays = compute()
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, **arrays)
    return arrays


def cached_json(name, key, compute, cache_dir=CACHE_DIR, log=print):
    """``compute()`` (JSON-ready), saved under ``name`` and ``key`` and reused afterwards."""
    path = Path(cache_dir) / f"{name}-{_digest(key, [])}.json"
    if path.exists():
        log(f"{name}: reused from {path}")
        return json.loads(path.read_text())
    value = compute()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(value))
    return value


def pretrained_model(curves, members, recipe, seed, name, cache_dir=CACHE_DIR, log=print):
    """Folder of an ASTROMER pre-trained with ``recipe`` on ``curves[members]`` (cached).

    Returns ``(folder, info)``; ``info`` holds the training time and losses
    when the model was trained in this call (and was saved with it).
    """
    folder = Path(cache_dir) / f"{name}-{_digest(dict(recipe, seed=seed), members)}"
    info_file = folder / "training.json"
    if info_file.exists():
        log(f"{name}: pre-trained model reused from {folder}")
        return folder, json.loads(info_file.read_text())
    start, cpu_start = time.perf_counter(), time.process_time()
    embedder = AstromerEmbedder(**recipe, device="cpu", random_state=seed).fit(
        [curves[i] for i in members])
    info = {"n_light_curves": len(members), "seconds": time.perf_counter() - start,
            "cpu_seconds": time.process_time() - cpu_start,
            "history": [{key: row.get(key) for key in ("epoch", "train_loss", "valid_loss")}
                        for row in embedder.net_.history]}
    folder.mkdir(parents=True, exist_ok=True)
    embedder.save_pretrained(folder)
    info_file.write_text(json.dumps(info))
    log(f"{name}: pre-trained on {len(members)} light curves in {info['seconds']:.0f} s")
    return Path(folder), info

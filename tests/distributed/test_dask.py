"""Embedding a partitioned Parquet catalogue with Dask, for real: a 2-process local cluster."""

import numpy as np
import pytest

pd = pytest.importorskip("pandas")
pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")
dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")

from sklearn_astromer import AstromerEmbedder  # noqa: E402
from sklearn_astromer.distributed import embed_frame, embed_partitions  # noqa: E402

TINY = dict(d_model=16, n_layers=1, n_heads=2, d_ff=16, max_obs=32, batch_size=8,
            random_state=0, device="cpu")


@pytest.fixture(scope="module")
def catalogue(tmp_path_factory):
    """60 objects' observations, shuffled and spread over 4 Parquet files.

    Returns the directory, the ids and the light curves in the same order.
    Every object's rows are scattered over several files, so a shuffle is needed.
    """
    from tests.conftest import make_sinusoids

    light_curves, _ = make_sinusoids(n_samples=60, min_obs=5, max_obs=80, seed=1)
    ids = np.array([f"obj-{index:03d}" for index in range(len(light_curves))])
    table = pd.DataFrame({
        "object_id": np.repeat(ids, [len(curve) for curve in light_curves]),
        "time": np.concatenate([curve[:, 0] for curve in light_curves]),
        "mag": np.concatenate([curve[:, 1] for curve in light_curves]),
        "err": np.concatenate([curve[:, 2] for curve in light_curves]),
    }).sample(frac=1.0, random_state=0)
    directory = tmp_path_factory.mktemp("catalogue")
    for part, rows in enumerate(np.array_split(np.arange(len(table)), 4)):
        pq.write_table(pa.Table.from_pandas(table.iloc[rows], preserve_index=False),
                       directory / f"part-{part}.parquet")
    return directory, ids, light_curves


@pytest.fixture(scope="module")
def embedder(catalogue):
    _, _, light_curves = catalogue
    return AstromerEmbedder(**TINY, max_epochs=1).fit(light_curves)


@pytest.fixture(scope="module")
def client():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=":0") as cluster:
        with distributed.Client(cluster) as client:
            yield client


def _assert_matches_single_process(result, embedder, catalogue):
    _, ids, light_curves = catalogue
    assert not result["object_id"].duplicated().any()
    assert set(result["object_id"]) == set(ids)
    result = result.set_index("object_id").loc[ids]
    assert list(result.columns) == list(embedder.get_feature_names_out())
    assert (result.dtypes == np.float32).all()
    np.testing.assert_allclose(result.to_numpy(), embedder.transform(light_curves), atol=1e-5)


@pytest.mark.slow
def test_two_worker_cluster_matches_single_process_transform(client, embedder, catalogue,
                                                             tmp_path):
    directory, _, _ = catalogue
    ddf = dd.read_parquet(directory)
    assert ddf.npartitions > 1
    output = embed_partitions(ddf, embedder, output=tmp_path / "embeddings")
    written = pd.read_parquet(output)
    assert len(list((tmp_path / "embeddings").glob("*.parquet"))) > 1
    _assert_matches_single_process(written, embedder, catalogue)


def _count_model_loads():
    """On a worker: count how often an AstromerEmbedder is unpickled from now on."""
    from sklearn_astromer import AstromerEmbedder

    AstromerEmbedder.loads = 0

    def counting_setstate(self, state):
        type(self).loads += 1
        self.__dict__.update(state)

    AstromerEmbedder.__setstate__ = counting_setstate


def _model_loads():
    from sklearn_astromer import AstromerEmbedder

    return AstromerEmbedder.loads


def _torch_threads_in_task():
    import torch

    from sklearn_astromer.distributed._dask import _thread_limit, _worker_threads

    with _thread_limit(_worker_threads()):
        return torch.get_num_threads()


@pytest.mark.slow
def test_workers_load_the_model_once_and_use_their_threads(client, embedder, catalogue):
    directory, _, _ = catalogue
    ddf = dd.read_parquet(directory).repartition(npartitions=8)
    client.run(_count_model_loads)
    embed_partitions(ddf, embedder).compute()
    loads = client.run(_model_loads)
    assert sum(loads.values()) >= 1 and max(loads.values()) <= 1, loads
    assert client.submit(_torch_threads_in_task, pure=False).result() == 1


@pytest.mark.slow
def test_frame_indexed_by_id_is_embedded_as_partitioned(client, embedder, catalogue):
    directory, _, _ = catalogue
    ddf = dd.read_parquet(directory).set_index("object_id")  # sorts: objects in one partition
    result = embed_partitions(ddf, embedder).compute()
    _assert_matches_single_process(result, embedder, catalogue)


def test_embed_frame_rows_follow_ids(embedder, catalogue):
    _, ids, light_curves = catalogue
    frame = pd.DataFrame({"object_id": np.repeat(ids[:3], [len(c) for c in light_curves[:3]]),
                          "time": np.concatenate([c[:, 0] for c in light_curves[:3]]),
                          "mag": np.concatenate([c[:, 1] for c in light_curves[:3]]),
                          "err": np.concatenate([c[:, 2] for c in light_curves[:3]])})
    result = embed_frame(frame.iloc[::-1], embedder)  # any row order
    assert result["object_id"].tolist() == list(ids[:3][::-1])
    np.testing.assert_allclose(result.iloc[:, 1:].to_numpy(),
                               embedder.transform(light_curves[:3])[::-1], atol=1e-6)
    assert len(embed_frame(frame.iloc[:0], embedder)) == 0


def test_object_without_finite_observation_is_named_by_id(embedder):
    frame = pd.DataFrame({"object_id": ["a", "a", "b"], "time": [1.0, 2.0, 3.0],
                          "mag": [12.0, 12.5, np.nan], "err": 0.1})
    with pytest.raises(ValueError, match=r"\['b'\]"):
        embed_frame(frame, embedder)


def test_embed_frame_takes_a_band_column():
    from sklearn_astromer.datasets import make_light_curves

    curves, _ = make_light_curves(2, classes=["RRab", "EW"], survey="ztf", bands=("g", "r"),
                                  n_obs=(30, 40), random_state=0)
    frame = pd.DataFrame({
        "object_id": np.repeat([f"s{i}" for i in range(len(curves))],
                               [len(curve) for curve in curves]),
        "time": np.concatenate([curve[:, 0] for curve in curves]),
        "mag": np.concatenate([curve[:, 1] for curve in curves]),
        "err": np.concatenate([curve[:, 2] for curve in curves]),
        "band": np.concatenate([curve[:, 3] for curve in curves]) + 1,  # ZTF filter ids 1, 2
    })
    embedder = AstromerEmbedder(**TINY, max_epochs=0).fit(
        [np.column_stack([curve[:, :3], curve[:, 3] + 1]) for curve in curves])
    result = embed_frame(frame, embedder, band_col="band")
    np.testing.assert_array_equal(result.iloc[:, 1:].to_numpy(), embedder.transform(
        [np.column_stack([curve[:, :3], curve[:, 3] + 1]) for curve in curves]))


def test_a_second_run_into_the_same_folder_is_refused_or_replaces_the_first(
        embedder, catalogue, tmp_path):
    from sklearn_astromer.distributed import read_embeddings

    directory, ids, _ = catalogue
    output = tmp_path / "embeddings"
    embed_partitions(dd.read_parquet(directory), embedder, output=output)
    with pytest.raises(ValueError, match="not empty.*if_exists='overwrite'"):
        embed_partitions(dd.read_parquet(directory), embedder, output=output)
    # Fewer partitions over more: the old files go first, nothing is duplicated.
    fewer = dd.read_parquet(directory).repartition(npartitions=2)
    embed_partitions(fewer, embedder, output=output, if_exists="overwrite")
    result = read_embeddings(output)
    assert len(result) == len(ids) and not result["object_id"].duplicated().any()
    assert len(list(output.glob("part.*.parquet"))) == 2
    (output / "notes.txt").write_text("mine")
    with pytest.raises(ValueError, match="notes.txt"):
        embed_partitions(fewer, embedder, output=output, if_exists="overwrite")


def test_an_interrupted_run_is_refused_by_the_reader_and_resumed(embedder, catalogue,
                                                                 tmp_path):
    from sklearn_astromer.distributed import read_embeddings

    directory, ids, _ = catalogue
    output = tmp_path / "embeddings"
    ddf = dd.read_parquet(directory).repartition(npartitions=4)
    embed_partitions(ddf, embedder, output=output)
    whole = read_embeddings(output)
    # What a driver killed midway leaves: two partitions done, one half-written, no marker.
    (output / "_SUCCESS").unlink()
    (output / "part.00002.parquet").rename(output / "_part.00002.parquet.tmp")
    (output / "part.00003.parquet").unlink()
    with pytest.raises(ValueError, match="no _SUCCESS"):
        read_embeddings(output)
    kept = {name: (output / name).stat().st_mtime_ns
            for name in ("part.00000.parquet", "part.00001.parquet")}
    with pytest.raises(ValueError, match="4 partitions.*2 partitions"):
        embed_partitions(ddf.repartition(npartitions=2), embedder, output=output,
                         if_exists="resume")
    embed_partitions(ddf, embedder, output=output, if_exists="resume")
    assert {name: (output / name).stat().st_mtime_ns for name in kept} == kept
    resumed = read_embeddings(output)
    assert len(resumed) == len(ids) and not resumed["object_id"].duplicated().any()
    pd.testing.assert_frame_equal(resumed, whole)
    assert not list(output.glob("_part.*"))


KILLED_DRIVER = """
import sys, time
import dask.dataframe as dd
import distributed
from sklearn_astromer import AstromerEmbedder
from sklearn_astromer.distributed import embed_partitions

transform = AstromerEmbedder.transform

def slow_transform(self, X):  # time for the test to kill this driver between partitions
    time.sleep(0.5)
    return transform(self, X)

AstromerEmbedder.transform = slow_transform
catalogue, model, output = sys.argv[1:]
with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                              dashboard_address=":0") as cluster, distributed.Client(cluster):
    embed_partitions(dd.read_parquet(catalogue).repartition(npartitions=12),
                     AstromerEmbedder.from_pretrained(model), output=output)
"""


def test_a_driver_killed_midway_is_resumed_without_loss_or_duplicates(embedder, catalogue,
                                                                     tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    from sklearn_astromer.distributed import read_embeddings

    directory, ids, _ = catalogue
    embedder.save_pretrained(tmp_path / "model")
    output = tmp_path / "embeddings"
    repository = str(Path(__file__).resolve().parents[2])
    driver = subprocess.Popen(
        [sys.executable, "-c", KILLED_DRIVER, str(directory), str(tmp_path / "model"),
         str(output)], env={**os.environ, "PYTHONPATH": os.pathsep.join(
             [repository, os.environ.get("PYTHONPATH", "")])},
        stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while len(list(output.glob("part.*.parquet"))) < 2:
        assert driver.poll() is None, driver.stderr.read()[-2000:]
        assert time.monotonic() < deadline
        time.sleep(0.01)
    driver.send_signal(signal.SIGKILL)
    driver.communicate()
    written = {path.name: path.stat().st_mtime_ns for path in output.glob("part.*.parquet")}
    assert 2 <= len(written) < 12 and not (output / "_SUCCESS").exists()
    with pytest.raises(ValueError, match="no _SUCCESS"):
        read_embeddings(output)

    loaded = AstromerEmbedder.from_pretrained(tmp_path / "model")
    ddf = dd.read_parquet(directory).repartition(npartitions=12)
    embed_partitions(ddf, loaded, output=output, if_exists="resume")
    assert {name: (output / name).stat().st_mtime_ns for name in written} == written
    resumed = read_embeddings(output)
    assert len(resumed) == len(ids) and not resumed["object_id"].duplicated().any()
    embed_partitions(ddf, loaded, output=tmp_path / "whole")
    whole = read_embeddings(tmp_path / "whole")
    # The rows of a shuffled partition may come in another order run to run; embeddings
    # agree to float32 rounding (other batch neighbours).
    pd.testing.assert_frame_equal(resumed.sort_values("object_id", ignore_index=True),
                                  whole.sort_values("object_id", ignore_index=True),
                                  check_exact=False, atol=1e-5, rtol=0)


def test_the_reader_names_a_missing_or_truncated_file(embedder, catalogue, tmp_path):
    from sklearn_astromer.distributed import read_embeddings

    directory, _, _ = catalogue
    output = tmp_path / "embeddings"
    embed_partitions(dd.read_parquet(directory), embedder, output=output)
    first = sorted(output.glob("part.*.parquet"))[0]
    table = pq.read_table(first)
    pq.write_table(table.slice(0, max(0, table.num_rows - 1)), first)
    with pytest.raises(ValueError, match=f"{first.name} has .* rows, the run wrote"):
        read_embeddings(output)
    first.unlink()
    with pytest.raises(ValueError, match=f"{first.name} is missing"):
        read_embeddings(output)


def _assert_refused(catalogue, embedder, message, tmp_path, **options):
    """Both lazily and with ``output``, embedding fails with ``message``; no ``_SUCCESS``."""
    with pytest.raises(ValueError, match=message):
        embed_partitions(catalogue, embedder, **options).compute()
    with pytest.raises(ValueError, match=message):
        embed_partitions(catalogue, embedder, output=tmp_path / "out", **options)
    assert not (tmp_path / "out" / "_SUCCESS").exists()


@pytest.mark.slow
@pytest.mark.parametrize("damage, problem", [
    ("words", r"Column 'mag' \(magnitude\) must be numeric"),
    ("null id", r"Column 'object_id' \(object id\) is missing in 1 row\(s\)"),
    ("no finite magnitude", r"object\(s\) \['obj-007'\] have no finite observation"),
])
@pytest.mark.parametrize("partitioned_by_id", [True, False])
def test_a_bad_partition_is_named(client, embedder, catalogue, tmp_path, damage, problem,
                                  partitioned_by_id):
    directory, _, _ = catalogue
    table = pd.read_parquet(directory)
    if damage == "words":
        table["mag"] = table["mag"].astype(object)
        table.loc[table.index[5], "mag"] = "bright"
    elif damage == "null id":
        table.loc[table.index[5], "object_id"] = None
    else:
        table.loc[table["object_id"] == "obj-007", "mag"] = np.nan
    bad = dd.from_pandas(table, npartitions=3)
    # Rows are checked before the shuffle: only transform's errors come after it.
    origin = ("of the catalogue shuffled by object id"
              if damage == "no finite magnitude" and not partitioned_by_id
              else "of the catalogue as embed_partitions received it")
    _assert_refused(bad, embedder, rf"^Partition \d+ \({origin}\): {problem}", tmp_path,
                    partitioned_by_id=partitioned_by_id)


@pytest.fixture(scope="module")
def files_by_object(catalogue, tmp_path_factory):
    """The catalogue written object group by object group: 3 files, 20 objects each.

    Returns the directory and the files' tables.
    """
    directory, _, _ = catalogue
    table = pd.read_parquet(directory).sort_values(["object_id", "time"], ignore_index=True)
    groups = np.array_split(table["object_id"].unique(), 3)
    by_object = tmp_path_factory.mktemp("by_object")
    tables = [table[table["object_id"].isin(group)].reset_index(drop=True) for group in groups]
    for part, rows in enumerate(tables):
        rows.to_parquet(by_object / f"part-{part}.parquet", index=False)
    return by_object, tables


@pytest.mark.slow
def test_a_catalogue_read_from_files_matches_single_process(client, embedder, catalogue,
                                                            files_by_object, tmp_path):
    directory, _ = files_by_object
    for partitioned_by_id in (True, False):
        output = embed_partitions(directory, embedder, partitioned_by_id=partitioned_by_id,
                                  output=tmp_path / str(partitioned_by_id))
        _assert_matches_single_process(pd.read_parquet(output), embedder, catalogue)
    # Files that mix objects are shuffled, as a Dask frame is.
    shuffled = embed_partitions(catalogue[0], embedder).compute()
    _assert_matches_single_process(shuffled, embedder, catalogue)


def _damage(file, table, damage):
    """Write ``table`` to ``file`` with ``damage``; return the object the damage hits (or None)."""
    table = table.copy()
    first = table["object_id"].iloc[0]
    if damage == "truncated":
        table.to_parquet(file, index=False)
        file.write_bytes(file.read_bytes()[:-100])
    elif damage == "overwritten":
        file.write_text("object_id,time,mag,err\nobj-000,50001.0,15.2,0.05\n")
    else:
        if damage == "text magnitudes":
            table["mag"] = table["mag"].map("{:.3f}".format)
        elif damage == "null id":
            table.loc[10, "object_id"] = None
        elif damage == "no finite magnitude":
            table.loc[table["object_id"] == first, "mag"] = np.nan
        elif damage == "time span too long":
            table.loc[table.index[table["object_id"] == first][-1], "time"] = 1e31
        table.to_parquet(file, index=False)
    return first


@pytest.mark.slow
@pytest.mark.parametrize("damage, problem", [
    ("truncated", r"not a readable Parquet file \(Parquet magic bytes not found"),
    ("overwritten", r"not a readable Parquet file \(Parquet magic bytes not found"),
    ("text magnitudes", r"Column 'mag' \(magnitude\) must be numeric; it has dtype"),
    ("null id", r"Column 'object_id' \(object id\) is missing in 1 row\(s\), first at row 10"),
    ("no finite magnitude", r"object\(s\) \['{object}'\] have no finite observation"),
    ("time span too long", r"object\(s\) \['{object}'\] span more than 1e\+30 days"),
])
@pytest.mark.parametrize("partitioned_by_id", [True, False])
def test_a_damaged_file_is_named_with_its_partition_and_object(
        client, embedder, files_by_object, tmp_path, damage, problem, partitioned_by_id):
    import re
    import shutil

    directory, tables = files_by_object
    copy = shutil.copytree(directory, tmp_path / "catalogue")
    file = copy / "part-1.parquet"
    refused_by_transform = "{object}" in problem
    problem = problem.format(object=_damage(file, tables[1], damage))
    where = rf"Partition 1 \(file {re.escape(str(file))}\)"
    if refused_by_transform and not partitioned_by_id:  # the shuffle mixed the files
        where = r"Partition \d+ \(of the catalogue shuffled by object id\)"
    _assert_refused(copy, embedder, rf"^{where}: {problem}", tmp_path,
                    partitioned_by_id=partitioned_by_id)


def test_a_path_is_read_as_a_long_table(embedder, files_by_object):
    directory, _ = files_by_object
    with pytest.raises(ValueError, match="nested_col needs a Dask frame"):
        embed_partitions(directory, embedder, nested_col="lc")

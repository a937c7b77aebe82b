"""``embed``: never a non-finite row; outputs read back exactly."""

import re

import numpy as np
import pytest

from sklearn_astromer import AstromerEmbedder
from sklearn_astromer.__main__ import main
from tests.cli.conftest import long_table
from tests.conftest import make_sinusoids

pd = pytest.importorskip("pandas")


def test_non_finite_embeddings_fail_naming_the_objects(table, tiny_model, tmp_path, capsys,
                                                       monkeypatch):
    transform = AstromerEmbedder.transform

    def poisoned(self, X):
        features = transform(self, X)
        features[[1, 4]] = np.nan
        return features

    monkeypatch.setattr(AstromerEmbedder, "transform", poisoned)
    output = tmp_path / "out.csv"
    assert main(["embed", str(table[0]), "--model", str(tiny_model), "-o", str(output),
                 "-q"]) == 1
    err = capsys.readouterr().err
    assert "table.csv: object(s) ['s01', 's04'] have embeddings that are not finite" in err
    assert [path.name for path in tmp_path.iterdir()] == ["table.csv"]  # no output, no chunk


@pytest.mark.parametrize("name", ["out.csv", "out.tsv.gz", "out.parquet"])
def test_output_reads_back_as_the_float32_embeddings(table, tiny_model, tmp_path, name):
    pytest.importorskip("pyarrow")
    path, light_curves = table
    assert main(["embed", str(path), "--model", str(tiny_model), "-o", str(tmp_path / name),
                 "-q"]) == 0
    if name.endswith(".parquet"):
        written = pd.read_parquet(tmp_path / name)
    else:
        written = pd.read_csv(tmp_path / name, sep="\t" if ".tsv" in name else ",")
    assert written["object_id"].tolist() == [f"s{index:02d}" for index in range(6)]
    expected = AstromerEmbedder.from_pretrained(tiny_model).transform(light_curves)
    np.testing.assert_array_equal(written.iloc[:, 1:].to_numpy(np.float32), expected)


def test_precision_option_embeds_as_the_estimator_does(table, tiny_model, tmp_path):
    path, light_curves = table
    output = tmp_path / "out.csv"
    assert main(["embed", str(path), "--model", str(tiny_model), "-o", str(output),
                 "--precision", "bfloat16", "-q"]) == 0
    written = pd.read_csv(output).iloc[:, 1:].to_numpy(np.float32)
    expected = AstromerEmbedder.from_pretrained(tiny_model,
                                                precision="bfloat16").transform(light_curves)
    np.testing.assert_allclose(written, expected, rtol=1e-6, atol=1e-6)
    float32 = AstromerEmbedder.from_pretrained(tiny_model).transform(light_curves)
    assert not np.array_equal(written, float32)


@pytest.mark.parametrize("spelling", ["same", "dotted", "symlink"])
def test_output_that_is_the_input_is_refused_before_writing(table, tiny_model, tmp_path, capsys,
                                                            spelling):
    path, _ = table
    before = path.read_bytes()
    output = {"same": path, "dotted": tmp_path / "." / path.name,
              "symlink": tmp_path / "link.csv"}[spelling]
    if spelling == "symlink":
        output.symlink_to(path)
    assert main(["embed", str(path), "--model", str(tiny_model), "-o", str(output), "-q"]) == 1
    assert "is the input" in capsys.readouterr().err
    assert path.read_bytes() == before and not list(tmp_path.glob("_*"))


def test_output_that_is_a_directory_or_an_input_file_is_refused(table, tiny_model, tmp_path,
                                                                capsys):
    path, _ = table
    (tmp_path / "out.csv").mkdir()
    assert main(["embed", str(path), "--model", str(tiny_model), "-o",
                 str(tmp_path / "out.csv"), "-q"]) == 1
    assert "is a directory" in capsys.readouterr().err
    assert main(["embed", str(tmp_path), "--pattern", "*.csv", "--model", str(tiny_model),
                 "-o", str(tmp_path / "embeddings.csv"), "-q"]) == 1
    assert "matches --pattern '*.csv'" in capsys.readouterr().err
    assert not list(tmp_path.glob("_*")) and not (tmp_path / "embeddings.csv").exists()


def test_batch_size_sets_the_inference_batch(table, tiny_model, tmp_path, monkeypatch):
    seen = []
    from_pretrained = AstromerEmbedder.from_pretrained.__func__

    def recording(cls, source, **params):
        seen.append(params)
        return from_pretrained(cls, source, **params)

    monkeypatch.setattr(AstromerEmbedder, "from_pretrained", classmethod(recording))
    path, light_curves = table
    output = tmp_path / "out.csv"
    assert main(["embed", str(path), "--model", str(tiny_model), "-o", str(output),
                 "--batch-size", "2", "-q"]) == 0
    assert seen[0]["inference_batch_size"] == 2 and "batch_size" not in seen[0]
    written = pd.read_csv(output).iloc[:, 1:].to_numpy(np.float32)
    expected = AstromerEmbedder.from_pretrained(tiny_model).transform(light_curves)
    np.testing.assert_allclose(written, expected, atol=1e-5)


def test_sigterm_keeps_the_finished_chunks_and_writes_no_output(table, tiny_model, tmp_path,
                                                                capsys, monkeypatch):
    import os
    import signal

    from sklearn_astromer.cli import _embed

    path, _ = table
    output = tmp_path / "out.csv"
    embed_chunk = _embed.embed_chunk
    calls = []

    def terminated_in_the_second_chunk(*args):
        calls.append(1)
        if len(calls) == 2:
            os.kill(os.getpid(), signal.SIGTERM)
        return embed_chunk(*args)

    monkeypatch.setattr(_embed, "embed_chunk", terminated_in_the_second_chunk)
    previous = signal.getsignal(signal.SIGTERM)
    with pytest.raises(SystemExit) as exit_info:
        main(["embed", str(path), "--model", str(tiny_model), "-o", str(output), "-q",
              "--chunk-size", "2"])
    assert exit_info.value.code == 128 + signal.SIGTERM and len(calls) == 2
    parts = tmp_path / "_out.csv.parts"
    assert not output.exists() and sorted(path.name for path in parts.glob("chunk.*")) == [
        "chunk.000000.csv"]
    assert f"1 finished chunk(s) kept in {parts}: run the same command with --resume" in (
        capsys.readouterr().err)
    assert signal.getsignal(signal.SIGTERM) is previous


@pytest.fixture
def labelled_table(tmp_path):
    """A long table with per-object columns (a class and a coordinate) and a varying one."""
    light_curves, y = make_sinusoids(n_samples=6, max_obs=30)
    frame = long_table(light_curves, prefix="s")[0]
    sizes = [len(curve) for curve in light_curves]
    frame["class"] = np.repeat(np.where(y == 1, "short", "long"), sizes)
    frame["ra"] = np.repeat(np.arange(6) * 10.5, sizes)
    frame["flux"] = np.arange(len(frame), dtype=float)
    return frame, light_curves, y


@pytest.mark.parametrize("name", ["out.csv", "out.parquet"])
@pytest.mark.parametrize("source", ["table.csv", "table.parquet"])
def test_kept_per_object_columns_are_written_beside_the_id(labelled_table, tiny_model, tmp_path,
                                                           name, source):
    pytest.importorskip("pyarrow")
    frame, light_curves, y = labelled_table
    path = tmp_path / source
    frame.to_csv(path, index=False) if source.endswith(".csv") else frame.to_parquet(path)
    assert main(["embed", str(path), "--model", str(tiny_model), "-o", str(tmp_path / name),
                 "--keep-columns", "class", "ra", "--chunk-size", "4", "-q"]) == 0
    written = (pd.read_parquet if name.endswith(".parquet") else pd.read_csv)(tmp_path / name)
    assert list(written.columns[:3]) == ["object_id", "class", "ra"]
    assert written["class"].tolist() == list(np.where(y == 1, "short", "long"))
    np.testing.assert_array_equal(written["ra"], np.arange(6) * 10.5)
    expected = AstromerEmbedder.from_pretrained(tiny_model).transform(light_curves)
    # Chunks of 4 objects batch differently from one call: float32 round-off.
    np.testing.assert_allclose(written.iloc[:, 3:].to_numpy(np.float32), expected, atol=1e-5)


@pytest.mark.parametrize("kept, message", [
    (["flux"], r"Column 'flux' varies within object 's00'"),
    (["colour"], r"--keep-columns \['colour'\] not in the table"),
    (["mag"], r"are not per-object columns"),
])
def test_columns_that_cannot_be_kept_are_refused(labelled_table, tiny_model, tmp_path, capsys,
                                                 kept, message):
    frame, _, _ = labelled_table
    frame.to_csv(tmp_path / "table.csv", index=False)
    assert main(["embed", str(tmp_path / "table.csv"), "--model", str(tiny_model), "-o",
                 str(tmp_path / "out.csv"), "--keep-columns", *kept, "-q"]) == 1
    assert re.search(message, capsys.readouterr().err)
    assert not (tmp_path / "out.csv").exists()


@pytest.fixture
def band_table(tmp_path):
    """A ZTF-like g/r long table (band names in a column)."""
    pd = pytest.importorskip("pandas")
    from sklearn_astromer.datasets import make_light_curves

    curves, _ = make_light_curves(2, classes=["RRab", "EW"], survey="ztf", bands=("g", "r"),
                                  n_obs=(30, 50), random_state=0)
    frames = [pd.DataFrame({"object_id": f"s{i}", "time": curve[:, 0], "mag": curve[:, 1],
                            "err": curve[:, 2],
                            "band": np.array(["g", "r"])[curve[:, 3].astype(int)]})
              for i, curve in enumerate(curves)]
    path = tmp_path / "bands.csv"
    pd.concat(frames).to_csv(path, index=False)
    return path, curves


def test_band_column_embeds_each_band_with_a_published_model(band_table, tmp_path, capsys):
    pd = pytest.importorskip("pandas")
    path, curves = band_table
    out = tmp_path / "embedded.csv"
    assert main(["embed", str(path), "-o", str(out), "--model", "macho", "--band-column",
                 "band", "--bands", "g", "r", "-q"]) == 0
    written = pd.read_csv(out)
    expected = AstromerEmbedder.from_pretrained("macho", bands=[0, 1]).transform(curves)
    assert list(written.columns[1:3]) == ["astromerembedder0_band0", "astromerembedder1_band0"]
    np.testing.assert_allclose(written.iloc[:, 1:].to_numpy(), expected, atol=1e-5)
    assert main(["embed", str(path), "-o", str(tmp_path / "x.csv"), "--model", "macho",
                 "--band-column", "band"]) == 1
    assert "--band-column and --bands go together" in capsys.readouterr().err
    assert main(["embed", str(path), "-o", str(tmp_path / "y.csv"), "--model", "macho",
                 "--band-column", "band", "--bands", "g"]) == 1
    assert "holds 'r'" in capsys.readouterr().err

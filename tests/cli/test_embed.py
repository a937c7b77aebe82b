"""``embed``: never a non-finite row; outputs read back exactly."""

import numpy as np
import pytest

from sklearn_astromer import AstromerEmbedder
from sklearn_astromer.__main__ import main
from tests.cli.conftest import long_table
from tests.conftest import make_sinusoids

pd = pytest.importorskip("pandas")


@pytest.fixture
def table(tmp_path):
    light_curves, _ = make_sinusoids(n_samples=6, max_obs=30)
    path = tmp_path / "table.csv"
    long_table(light_curves, prefix="s")[0].to_csv(path, index=False)
    return path, light_curves


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
    assert not output.exists() and not list(tmp_path.glob("*.partial"))


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
    assert path.read_bytes() == before and not list(tmp_path.glob("*.partial"))


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
    assert not list(tmp_path.glob("*.partial")) and not (tmp_path / "embeddings.csv").exists()


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


def test_sigterm_removes_the_partial_output(table, tiny_model, tmp_path, monkeypatch):
    import os
    import signal

    path, _ = table
    output = tmp_path / "out.csv"

    from sklearn_astromer.cli import _embed

    write = _embed.EmbeddingWriter.write
    calls = []

    def write_then_terminate(self, *args):
        write(self, *args)
        calls.append(1)
        assert self.partial.exists()
        os.kill(os.getpid(), signal.SIGTERM)

    monkeypatch.setattr(_embed.EmbeddingWriter, "write", write_then_terminate)
    previous = signal.getsignal(signal.SIGTERM)
    with pytest.raises(SystemExit) as exit_info:
        main(["embed", str(path), "--model", str(tiny_model), "-o", str(output), "-q",
              "--chunk-size", "2"])
    assert exit_info.value.code == 128 + signal.SIGTERM and calls == [1]
    assert not output.exists() and not list(tmp_path.glob("*.partial"))
    assert signal.getsignal(signal.SIGTERM) is previous

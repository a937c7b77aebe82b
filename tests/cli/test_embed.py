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

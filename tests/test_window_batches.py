import numpy as np
import pytest

from sklearn_astromer import AstromerEmbedder
from sklearn_astromer._window_batches import AUTO_TOKENS_PER_BATCH, inference_batching


def test_auto_inference_batches_hold_a_budget_of_observations(tiny_params):
    assert inference_batching("auto", "cpu") == (None, AUTO_TOKENS_PER_BATCH["cpu"])
    assert inference_batching("auto", "cuda:0") == (None, AUTO_TOKENS_PER_BATCH["cuda"])
    assert inference_batching(12, "cpu") == (12, None)
    with pytest.raises(ValueError, match="inference_batch_size"):
        AstromerEmbedder(**tiny_params, inference_batch_size="big").fit([np.ones((5, 2))])

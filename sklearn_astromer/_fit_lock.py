"""One ``fit`` at a time per process, so that fits in threads are reproducible.

PyTorch's random number generator is global to the process: dropout, masks
and shuffling of two fits running in two threads at once draw from one
stream, interleaved at random, and ``random_state`` no longer fixes the
model (embeddings of two such fits differed by up to 3.25). Fits of this
package's estimators therefore hold a process-wide lock: fits started from
threads (``GridSearchCV(n_jobs=2)`` under joblib's threading backend, a
thread pool) run one after the other and give the models of a serial run.
Little speed is lost, since each fit already uses every core through
PyTorch's own threads; processes (joblib's default ``loky`` backend) run in
parallel as before.
"""

import threading

#: Held by every ``fit`` of AstromerEmbedder and MultimodalCLIPEmbedder;
#: re-entrant, so a fit that fits another estimator in the same thread proceeds.
FIT_LOCK = threading.RLock()

import gc
import threading

from portal import create_app
from portal.assistant.classifier import classify

app = create_app()
# The assistant's classifier trains at first use (about 2 s with scikit-learn's import): do it now, in the
# background, so the first customer to write is not the one who waits.
threading.Thread(target=classify, args=("warm up",), name="classifier-warm-up", daemon=True).start()
# What start-up built lives as long as the process: keep it out of the collector's full passes,
# which otherwise paused big pages (the 1,500-cell mapping grid) by ~100 ms (bench/README.md, menu).
gc.freeze()

import gc

from portal import create_app

app = create_app()
# What start-up built lives as long as the process: keep it out of the collector's full passes,
# which otherwise paused big pages (the 1,500-cell mapping grid) by ~100 ms (bench/README.md, menu).
gc.freeze()

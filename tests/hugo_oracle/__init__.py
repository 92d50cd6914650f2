"""Hugo as the oracle: build the corpus blogs with Hugo and with bitopia, and compare them (see compare.py)."""

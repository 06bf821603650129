#!/bin/sh
# make bench: the TSBS-style side-by-side benchmark (see docs/benchmarks.md).
echo "bench: not built yet"

#!/bin/sh
# SPDX-License-Identifier: MIT
# Every #include of the daemon's layers points down, and no two files
# include each other in a cycle (tools/check-layers.py, HACKING.md).
srcdir=${IOASD_SRCDIR:-$(dirname "$0")/..}
exec python3 "$srcdir/tools/check-layers.py" "$srcdir"

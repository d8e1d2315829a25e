#!/bin/sh
# Reproduce the toy result from this folder: tests first, then the scored run.
set -eu
cd "$(dirname "$0")"
python -m unittest discover -s tests
python train.py --data data/tickets.csv

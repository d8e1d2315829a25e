"""Tests for the toy classifier harness. Run from code/: python -m unittest discover -s tests"""

from __future__ import annotations

import sys
import unittest
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(HERE))

import train  # noqa: E402

DATA = HERE / "data" / "tickets.csv"


class TokenizeTest(unittest.TestCase):
    def test_lowercases_and_drops_stopwords(self) -> None:
        self.assertEqual(train.tokenize("Where is MY parcel? Tracking 1Z884"),
                         ["parcel", "tracking", "1z884"])


class DataTest(unittest.TestCase):
    def test_dataset_is_balanced_over_the_six_labels(self) -> None:
        tickets = train.load(DATA)
        self.assertEqual(len(tickets), 120)
        self.assertEqual(Counter(t.label for t in tickets),
                         Counter({label: 20 for label in train.LABELS}))
        self.assertEqual(len({t.id for t in tickets}), 120)

    def test_split_is_stratified_and_disjoint(self) -> None:
        tr, te = train.split(train.load(DATA))
        self.assertEqual((len(tr), len(te)), (90, 30))
        self.assertFalse({t.id for t in tr} & {t.id for t in te})
        self.assertEqual(Counter(t.label for t in te), Counter({lb: 5 for lb in train.LABELS}))


class MetricTest(unittest.TestCase):
    def test_precision_counts_unpredicted_labels_as_zero(self) -> None:
        gold = ["billing", "billing", "returns", "other"]
        pred = ["billing", "returns", "returns", "billing"]
        p = train.precision_by_label(gold, pred)
        self.assertAlmostEqual(p["billing"], 0.5)
        self.assertAlmostEqual(p["returns"], 0.5)
        self.assertEqual(p["other"], 0.0)


class ModelTest(unittest.TestCase):
    def test_learns_obvious_keywords(self) -> None:
        model = train.KeywordNB().fit(train.load(DATA))
        self.assertEqual(model.predict("invoice charged twice refund"), "billing")
        self.assertEqual(model.predict("courier tracking parcel not delivered"), "delivery")
        self.assertEqual(model.predict("api webhook error"), "technical")

    def test_reported_precision_is_reproduced(self) -> None:
        result = train.evaluate(train.load(DATA))
        # The value claimed in evidence.yml (reproduce.expected.precision).
        self.assertEqual(round(result["macro_precision"], 2), 0.62)


if __name__ == "__main__":
    unittest.main()

"""Where the tests find the checkout, its sample reports, their data and the shared labelled sets."""

from pathlib import Path

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
PACKAGE = ROOT / "tbs_doccheck"
SAMPLES = ROOT / "sample_reports"
DATA = TESTS / "data"
GOLDEN = TESTS / "golden"
SHARED_EVAL = ROOT.parent / "shared" / "eval"
DEV_SET = SHARED_EVAL / "dev.jsonl"
EXTRA_SET = SHARED_EVAL / "extra.jsonl"

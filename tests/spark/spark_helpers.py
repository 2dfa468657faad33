"""What the Spark tests share: loading the other packages' file builders, which the Spark engine must match."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

TESTS = Path(__file__).resolve().parents[1]


def load_tests_module(relative: str) -> ModuleType:
    """A module of the test suite by its path under tests/, loaded once whatever way pytest was started.

    The mixed folders and broken files other packages' tests build are what the Spark engine must match,
    so they are taken from there rather than copied.
    """
    name = "_spark_tests_" + relative.removesuffix(".py").replace("/", "_")
    if name not in sys.modules:
        if str(TESTS) not in sys.path:
            sys.path.insert(0, str(TESTS))  # their own imports ("formats", "read_helpers") resolve from tests/
        sys.path.insert(0, str(TESTS / Path(relative).parent))
        spec = importlib.util.spec_from_file_location(name, TESTS / relative)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]

"""The Spark engine (the ``spark`` extra): ``check_dataframe``, and ``audit --engine spark`` for folders and tables."""

from tbs_doccheck.spark.dataframe import check_dataframe
from tbs_doccheck.spark.schema import AUDIT_COLUMNS, RESULT_COLUMNS
from tbs_doccheck.spark.session import start_session

__all__ = ["AUDIT_COLUMNS", "RESULT_COLUMNS", "check_dataframe", "start_session"]

"""``check_dataframe``: a Spark DataFrame of report texts in, one flat result row per input row out."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from tbs_doccheck.readers import DEFAULT_MAX_BYTES
from tbs_doccheck.spark.schema import result_ddl
from tbs_doccheck.spark.worker import INTERNAL_COLUMNS, check_text_batches

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame

__all__ = ["check_dataframe"]


def _column(name: str) -> Column:
    """The top-level column called ``name``, even when the name holds dots or backquotes."""
    from pyspark.sql import functions as F

    return F.col("`" + name.replace("`", "``") + "`")


def _inputs(df: DataFrame, text_col: str, id_col: str) -> DataFrame:
    """``id`` (string) and ``text`` (UTF-8 bytes) columns of ``df``.

    Raises:
        ValueError: A column is missing, or the text column is not a string column.
    """
    from pyspark.sql.types import StringType

    fields = {field.name: field for field in df.schema.fields}
    for role, name in (("text", text_col), ("id", id_col)):
        if name not in fields:
            raise ValueError(f"no {role} column {name!r}; the DataFrame has {', '.join(map(repr, fields)) or 'none'}")
    if not isinstance(fields[text_col].dataType, StringType):
        raise ValueError(f"the text column {text_col!r} is {fields[text_col].dataType.simpleString()}, expected string")
    # Bytes, not strings, cross into Python: Spark does not check that a string is valid UTF-8 (a cast from
    # binary keeps any bytes), and a bad one would fail the whole task while Arrow hands it to pandas.
    return df.select(_column(id_col).cast("string").alias("id"), _column(text_col).cast("binary").alias("text"))


def check_dataframe(
    df: DataFrame, text_col: str = "text", id_col: str = "id", *, max_chars: int = DEFAULT_MAX_BYTES
) -> DataFrame:
    """Checks every report text of ``df`` on the executors; lazy, like any transformation.

    Runs through ``mapInPandas`` over Arrow batches. Each Python worker has one ``Checker``, built in
    the worker (or, in a session from :func:`tbs_doccheck.spark.start_session`, in the daemon it is forked
    from) and kept for the tasks that follow: nothing from spaCy is pickled on the driver.
    Results equal ``Checker.check_many`` on the same texts and ids. A null, blank or oversized text
    gives an error row (E003-empty, E004-too-large), and a text the checker cannot process gives
    E099-internal-error: no input row fails the task, and no message quotes a report.

    Args:
        df: Any DataFrame with a string text column and an id column (any type; cast to string).
        text_col: The report text column.
        id_col: The column that identifies a row; copied to ``id`` (ids should be unique, to join back).
        max_chars: Texts longer than this are E004 error rows (the audit's file size limit by default).

    Returns:
        One row per input row with the columns of :data:`tbs_doccheck.spark.schema.RESULT_COLUMNS`
        (README, "Spark").

    Raises:
        ValueError: A column is missing, or the text column is not a string column.
    """
    body = partial(check_text_batches, max_chars=max_chars)
    return _inputs(df, text_col, id_col).mapInPandas(body, schema=result_ddl())


def check_rows_for_audit(df: DataFrame, text_col: str, id_col: str, *, max_chars: int) -> DataFrame:
    """:func:`check_dataframe` plus the audit's internal columns (``seq`` in the table's scan order, ``html``)."""
    from pyspark.sql import functions as F

    inputs = _inputs(df, text_col, id_col).withColumn("seq", F.monotonically_increasing_id())
    body = partial(check_text_batches, max_chars=max_chars, with_html=True)
    internal = ", ".join(f"`{name}` {kind}" for name, kind, _ in INTERNAL_COLUMNS)
    return inputs.mapInPandas(body, schema=f"{internal}, {result_ddl()}")

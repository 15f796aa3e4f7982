"""Fixtures of the detect tests: the test run's one SparkSession (as tests/query's)."""

from __future__ import annotations

import shutil
from typing import Any

import pytest

# Tiny stores: planning dominates, so the test session plans lean, as tests/query's Spark tests
# do (test_spark_differential.TEST_CONF); the answers do not depend on these.
TEST_CONF = {
    "spark.sql.adaptive.enabled": "false",
    "spark.sql.codegen.wholeStage": "false",
    "spark.sql.codegen.factoryMode": "NO_CODEGEN",
    "spark.sql.shuffle.partitions": "1",
}


@pytest.fixture(scope="session")
def spark() -> Any:
    """The process's SparkSession on local[2]; skips when pyspark or Java is missing."""
    pytest.importorskip(
        "pyspark", reason="pyspark is not installed (pip install 'huntbook[spark]')"
    )
    if shutil.which("java") is None:
        pytest.skip("Java is not installed (Spark needs a JRE, e.g. openjdk-17-jre-headless)")
    from huntbook.engines.spark import spark_session

    session = spark_session("local[2]")
    session.sparkContext.setLogLevel("OFF")  # failures are asserted, not logged
    for key, value in TEST_CONF.items():
        session.conf.set(key, value)
    return session

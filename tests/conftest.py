"""Fixtures shared by every test package."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

# Property tests check answers, not speed: Hypothesis's per-example deadline (200 ms) fails them
# on a loaded CI machine for no fault of the code (speed is measured by bench/, not by tests).
settings.register_profile("huntbook", deadline=None)
settings.load_profile("huntbook")

SHARED_DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/data beside the repository (real recorded attacks); skips the test when absent."""
    path = SHARED_DATA.resolve()
    if not path.is_dir():
        pytest.skip("../shared/data is absent")
    return path


# Tiny stores: planning dominates, so the test run's Spark plans lean (no adaptive re-planning, no
# code generation, one shuffle partition); the answers do not depend on these.
TEST_CONF = {
    "spark.sql.adaptive.enabled": "false",
    "spark.sql.codegen.wholeStage": "false",
    "spark.sql.codegen.factoryMode": "NO_CODEGEN",
    "spark.sql.shuffle.partitions": "1",
}


@pytest.fixture(scope="session")
def spark() -> Any:
    """The one SparkSession of the test run, on local[2]; skips when pyspark or Java is missing."""
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

# The README's two commands live here: `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: demo test install install-test test-jars lint docs docs-check bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install -q -e .

install-test: $(BIN)/python
	$(BIN)/pip install -q -e '.[test]'

demo: install
	$(BIN)/huntbook demo --out huntbook-demo
	@echo "huntbook is installed in $(VENV): run '. $(VENV)/bin/activate' to have the huntbook command on your PATH."

test: install-test
	$(BIN)/python -m pytest -q

# Hadoop's S3A connector for the Spark-on-S3 test (tests/store/test_object_storage.py), which
# Maven would serve but only PyPI is reachable: hadoop-aws 3.3.1 and its AWS SDK bundle from the
# sagemaker-pyspark sdist, kept in JARS between runs, with .ci/spark-s3a.conf as
# JARS/conf/spark-defaults.conf. Then `export SPARK_CONF_DIR=$(JARS)/conf` before the tests.
JARS ?= $(HOME)/.cache/huntbook/s3a-jars
S3A_SDIST := sagemaker_pyspark-1.4.5
S3A_JARS := hadoop-aws-3.3.1.jar aws-java-sdk-bundle-1.11.901.jar

test-jars: $(JARS)/conf/spark-defaults.conf

$(JARS)/conf/spark-defaults.conf: .ci/spark-s3a.conf | $(BIN)/python
	@mkdir -p $(JARS)/conf
	@test -f $(JARS)/hadoop-aws-3.3.1.jar || ( \
	    $(BIN)/pip download -q --no-deps --no-binary :all: -d $(JARS) sagemaker-pyspark==1.4.5 \
	    && tar -xzf $(JARS)/$(S3A_SDIST).tar.gz -C $(JARS) --strip-components=3 \
	        $(addprefix $(S3A_SDIST)/deps/jars/,$(S3A_JARS)) \
	    && rm $(JARS)/$(S3A_SDIST).tar.gz )
	sed 's|@JARS@|$(abspath $(JARS))|g' .ci/spark-s3a.conf > $@

lint: install-test
	$(BIN)/pip install -q -e '.[dev]'
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy

docs: install-test
	$(BIN)/cog -r docs/*.md

docs-check: install-test
	$(BIN)/cog --check docs/*.md

bench: install
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/search.py

clean:
	rm -rf $(VENV) huntbook-store huntbook-demo .pytest_cache

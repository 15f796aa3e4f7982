"""The analytics' YAML tables, parsed with libyaml's safe loader when PyYAML has it
(analytics/_yaml.py), hold what the pure-Python safe loader reads from them."""

from __future__ import annotations

from importlib import resources

import pytest
import yaml

from huntbook.analytics import _yaml


@pytest.mark.parametrize("name", ["methods.yaml", "powershell.yaml", "visibility.yaml"])
def test_a_table_reads_as_safe_load_reads_it(name):
    text = resources.files("huntbook.analytics").joinpath(name).read_text(encoding="utf-8")
    assert _yaml.table(name) == yaml.safe_load(text)


def test_the_loader_is_libyaml_s_safe_one_when_pyyaml_has_it():
    expected = yaml.CSafeLoader if yaml.__with_libyaml__ else yaml.SafeLoader
    assert _yaml.LOADER is expected

"""docs/specs.md is generated from the spec models: the committed page must be current."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType

import pytest

from airflow_provider_smtrain.specs import SpecModel

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "gen_specs_doc.py"


def load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_specs_doc", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


gen = load_script()


def test_committed_page_is_current() -> None:
    page = gen.DOC.read_text()
    assert gen.render(page) == page, "docs/specs.md is not current: run .venv/bin/python scripts/gen_specs_doc.py"
    assert gen.main(["--check"]) == 0


def test_every_exported_model_has_a_table() -> None:
    named = set(re.findall(r"<!-- generated: (\w+) -->", gen.DOC.read_text()))
    assert named == {model.__name__ for model in gen.exported_models()}
    assert {"ModelTrainerSpec", "HyperparameterTunerSpec", "HyperbandStrategySpec"} <= named


def test_a_model_without_a_table_is_an_error() -> None:
    page = gen.DOC.read_text()
    without = re.sub(r"<!-- generated: ComputeSpec -->\n.*?<!-- end generated -->", "", page, flags=re.S)
    with pytest.raises(gen.DocError, match="ComputeSpec"):
        gen.render(without)


def test_a_field_without_a_param_text_is_an_error() -> None:
    class Undocumented(SpecModel):
        """
        A model that forgot one field.

        :param documented: is documented.
        """

        documented: int = 1
        forgotten: str | None = None

    with pytest.raises(gen.DocError, match="forgotten"):
        gen.table(Undocumented)


def test_a_stale_table_is_rewritten() -> None:
    page = gen.DOC.read_text()
    stale = page.replace("| `base_tuning_job_name` |", "| `base_tuning_job_nam` |", 1)
    assert stale != page
    assert gen.render(stale) == page

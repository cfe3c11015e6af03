"""The notebooks are stored with their outputs (tools/store_notebooks.py), so they read without
being run, and they still execute top to bottom (at CI's small settings), so they cannot rot."""

from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

NOTEBOOKS = sorted((Path(__file__).parent.parent / "notebooks").glob("*.ipynb"))
NOT_STORED = "third-party-images"  # cells whose output shows CelebA faces: never stored


def _code(nb) -> list:
    return [c for c in nb.cells if c.cell_type == "code"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_stored_run_with_its_outputs(path):
    cells = _code(nbformat.read(path, as_version=4))
    assert [c.execution_count for c in cells] == list(range(1, len(cells) + 1)), "run tools/store_notebooks.py"
    outputs = [o for c in cells for o in c.outputs]
    assert outputs and not [o for o in outputs if o.output_type == "error"]
    assert not [o for c in cells if NOT_STORED in c.metadata.get("tags", []) for o in c.outputs]
    progress = [o for o in outputs if o.output_type == "stream" and " s each, " in "".join(o.text) and " min left" in "".join(o.text)]
    assert not progress, "progress lines say how long a run took, not what it shows: store with tools/store_notebooks.py"
    if path.stem in ("demo", "photo"):  # figures a viewer shows
        assert any("image/png" in o.get("data", {}) for o in outputs)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs(path, monkeypatch):
    monkeypatch.setenv("SEMANTIC_INPAINT_NOTEBOOK_FAST", "1")
    nb = nbformat.read(path, as_version=4)
    nbclient.NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
    errors = [o for c in _code(nb) for o in c.outputs if o.output_type == "error"]
    assert not errors

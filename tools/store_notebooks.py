"""Run the notebooks top to bottom at their own settings and store them with their outputs, so
that they read on any notebook viewer without being run.

    python tools/store_notebooks.py                       # every notebook in notebooks/
    python tools/store_notebooks.py notebooks/demo.ipynb  # one

A cell tagged `third-party-images` keeps no output: it shows CelebA faces, which this
repository does not copy. Widget state is not stored (the mask painter's would hold the
photo): a viewer shows a widget's text form instead, and progress bars and lines are left out.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbclient
import nbformat

from semantic_inpaint import progress

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
NOT_STORED = "third-party-images"


def _progress_bar(output: dict) -> bool:
    """A tqdm bar as the kernel sends it: a widget whose text form is its first draw ("0/300")."""
    data = output.get("data", {})
    return "application/vnd.jupyter.widget-view+json" in data and "it/s]" in data.get("text/plain", "")


def _progress_lines(output: dict) -> bool:
    """A stderr stream output that holds only `progress` lines (which a kernel with no terminal gets
    every 30 s of a search): how long the run took, not what it shows."""
    if output.get("output_type") != "stream" or output.get("name") != "stderr":
        return False
    lines = [line for line in "".join(output.get("text", "")).splitlines() if line.strip()]
    return bool(lines) and all(progress.LINE.match(line) for line in lines)


def store(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        nb, timeout=3600, kernel_name="python3", record_timing=False, store_widget_state=False, resources={"metadata": {"path": str(path.parent)}}
    )
    client.execute()
    for cell in nb.cells:
        if cell.cell_type == "code":
            keep = NOT_STORED not in cell.metadata.get("tags", [])
            cell.outputs = [o for o in cell.outputs if keep and not _progress_bar(o) and not _progress_lines(o)]
    nbformat.write(nb, path)
    print(f"stored {path}")


if __name__ == "__main__":
    for name in sys.argv[1:] or sorted(NOTEBOOKS.glob("*.ipynb")):
        store(Path(name))

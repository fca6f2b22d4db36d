"""The main window's words: the Help text, why a save failed, and the status bar's summary of the problems.
Plain text from the model, kept apart from the window's widgets and actions."""

from __future__ import annotations

from dataclasses import replace

from core.files.file_errors import explain_os_error
from core.model.analysis import Analysis, Problem, status
from core.model.graph import Graph

HELP = """<h3>Building a network</h3>
<ul>
<li><b>Add a layer:</b> drag it from the palette on the left onto the canvas, or double-click it to add it
after the selected layer (wired in).</li>
<li><b>Connect:</b> drag from a layer's output port (right) to another layer's input port (left). Green means
the wire is allowed; red says why not.</li>
<li><b>Replace a wire:</b> drop a new wire on an input that already has one (Undo puts the old one back).
<b>Remove a wire:</b> drag it away from its input port, or click it and press Delete.</li>
<li><b>Select:</b> click, or drag a box on empty canvas. <b>Move:</b> drag selected layers.</li>
<li><b>Pan:</b> middle mouse button, or hold Space and drag. <b>Zoom:</b> mouse wheel. <b>Fit:</b> F.</li>
<li>Every wire shows the tensor shape it carries, e.g. [N, 64] (N is the batch size).</li>
<li>The inspector on the right edits the selected layer; <i>auto</i> values are filled from the input shape.</li>
</ul>"""


def save_failure(exc: BaseException) -> str:
    """Why a save failed, in plain words, for an error core did not already explain."""
    if isinstance(exc, OSError):
        return explain_os_error(exc)
    if "symlink loop" in str(exc).lower():
        return "the path goes through a symbolic link that points back to itself (a loop)"
    return f"{type(exc).__name__}: {exc}"


def model_only(analysis: Analysis) -> Analysis:
    """The analysis without the network-against-its-data problems: the model's code is valid PyTorch even when its
    output does not fit the dataset, so the code view keeps showing it (Problems and Train say what to fix)."""
    return replace(analysis, problems=[p for p in analysis.problems if p.kind != "task"])


def problem_summary(graph: Graph, errors: list[Problem]) -> str:
    """The status bar's words for the errors, naming the first: '2 problems · fc1: does not fit the data'."""
    first = errors[0]
    count = f"{len(errors)} problem{'s' * (len(errors) > 1)}"
    if not first.node_id or first.node_id not in graph:
        return count
    return f"{count} · {graph.node(first.node_id).name}: {status([first]) or 'problem'}"

"""Trial 5 J9: memory running out during a run ended it with torch's allocator text ("fc1 (Linear) failed while
training: [enforce fail at alloc_cpu.cpp:127] err == 0. DefaultCPUAllocator: can't allocate memory ..."). It is
told in plain words now: whose memory ran out, how much was asked for, and the fix."""

from __future__ import annotations

from core.errors import out_of_memory_message, plain_message
from core.training.loaders import explain_runtime_error
from tests.core.train_fixtures import mlp_project

CPU_TEXT = (
    "[enforce fail at alloc_cpu.cpp:127] err == 0. DefaultCPUAllocator: can't allocate memory: you tried to "
    "allocate 12800000000 bytes. Error code 12 (Cannot allocate memory)"
)
CUDA_TEXT = (
    "CUDA out of memory. Tried to allocate 20.00 GiB. GPU 0 has a total capacity of 79.10 GiB of which 3.12 GiB "
    "is free."
)


def _raised_on_line_3(error: BaseException, filename: str) -> BaseException:
    """``error`` raised from line 3 of generated code named ``filename``, as the trainer sees it."""
    code = compile("\n\nraise error\n", filename, "exec")
    try:
        exec(code, {"error": error})
    except BaseException as raised:  # the test's own error, caught to be explained
        return raised
    raise AssertionError("not raised")


def test_the_cpu_allocator_text_becomes_plain_words_naming_the_layer() -> None:
    project = mlp_project([1, 8, 8], 50_000_000, 10, dataset="digits")
    fc1 = next(n for n in project.graph.nodes if n.name == "fc1")
    error = _raised_on_line_3(RuntimeError(CPU_TEXT), "<generated>")
    message = explain_runtime_error(error, "<generated>", {3: fc1.id}, project.graph)
    assert "enforce fail" not in message and "DefaultCPUAllocator" not in message
    assert message.startswith("The computer ran out of memory during training: fc1 (Linear) asked for 13 GB at once.")
    assert "Lower the batch size" in message


def test_a_gpu_out_of_memory_names_the_gpu_and_the_cpu_as_a_way_out() -> None:
    class OutOfMemoryError(RuntimeError):  # torch.cuda.OutOfMemoryError's name, as the check reads it
        pass

    message = out_of_memory_message(OutOfMemoryError(CUDA_TEXT))
    assert message is not None and message.startswith("The GPU ran out of memory during training")
    assert "it asked for 20.00 GiB at once" in message and "train on the CPU" in message


def test_a_failed_run_told_by_plain_message_gets_the_same_words() -> None:
    told = plain_message(RuntimeError(CPU_TEXT), training=True)
    assert told.startswith("The computer ran out of memory during training: it asked for 13 GB at once.")
    assert plain_message(MemoryError(), training=True).startswith("The computer ran out of memory during training.")


def test_other_runtime_errors_keep_their_words() -> None:
    project = mlp_project([1, 8, 8], 16, 10, dataset="digits")
    fc1 = next(n for n in project.graph.nodes if n.name == "fc1")
    error = _raised_on_line_3(RuntimeError("mat1 and mat2 shapes cannot be multiplied (4x3 and 64x16)"), "<g>")
    assert out_of_memory_message(error) is None
    message = explain_runtime_error(error, "<g>", {3: fc1.id}, project.graph)
    assert message.startswith("fc1 (Linear) failed while training: mat1 and mat2 shapes cannot be multiplied")

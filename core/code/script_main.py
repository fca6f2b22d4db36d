"""The exported script's ``main``: set up, then epoch by epoch ``train_one_epoch``, ``evaluate`` and
``end_of_epoch`` (``core.code.script_loop`` writes those), then test and save.

Only with the setting ``distributed`` does the script run under ``torchrun`` (docs/SCALING.md): then a few
lines marked "distributed" start the process group, wrap the model in ``DistributedDataParallel``, give each
process its shard of every epoch's order, add up the sums of all processes and leave printing and saving to
the first one; ``python train.py`` skips them and runs as one process. The trainer does not run ``main``: it
runs the functions ``main`` calls, in the same order (``core.training.trainer``).
"""

from __future__ import annotations

from core.code import script_transfer
from core.code.line_wrap import call_lines
from core.code.script_loop import classifies, end_of_epoch_parameters, single_thread, train_epoch_parameters, uses_amp
from core.code.script_transfer import Transfer
from core.settings import TrainingSettings


def main_lines(s: TrainingSettings, total_params: int, npz: bool, transfer: Transfer) -> list[str]:
    """The script's ``main``: set up, train epoch by epoch with ``train_one_epoch``, validate with ``evaluate``,
    close the epoch with ``end_of_epoch``, test and save (npz: the data is read by the short ``np.load`` loader,
    whose errors are named too)."""
    return [
        "def main() -> None:",
        *_setup_lines(s, total_params, npz, transfer),
        "    for epoch in range(1, EPOCHS + 1):",
        *(_phase_two_lines(s) if transfer.phases else []),
        *_epoch_lines(s),
        *_finish_lines(s),
    ]


def _phase_two_lines(s: TrainingSettings) -> list[str]:
    """Fine-tuning's switch (fastai's ``fine_tune``): after FREEZE_EPOCHS epochs everything trains, with a new
    optimizer (and schedule) at the lower learning rate; under torchrun DDP is told which weights train now."""
    lines = [
        "        if epoch == FREEZE_EPOCHS + 1:  # phase two: every layer trains now",
        "            optimizer = unfreeze(model)",
    ]
    if s.distributed:
        lines += [
            "            if distributed:  # distributed: DDP learns which weights train now",
            "                model = DDP(model.module)",
        ]
    if s.scheduler != "none":
        lines.append("            scheduler = make_scheduler(optimizer, steps_per_epoch)")
    rate = 'f"Phase two: every layer trains, at {LEARNING_RATE * UNFREEZE_LR_FACTOR:g}"'
    if s.distributed:
        return [*lines, "            if main_process:", *call_lines(" " * 16, "print", [rate])]
    return [*lines, *call_lines(" " * 12, "print", [rate])]


def _device_lines(device: str) -> list[str]:
    if device == "cpu":
        return ['    device = torch.device("cpu")']
    if device == "cuda":
        return ['    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")']
    if device == "mps":
        return ['    device = torch.device("mps" if torch.backends.mps.is_available() else "cpu")']
    return [
        "    cuda, mps = torch.cuda.is_available(), torch.backends.mps.is_available()",
        '    device = torch.device("cuda" if cuda else "mps" if mps else "cpu")',
    ]


def _distributed_lines() -> list[str]:
    """Who this process is: torchrun sets the variables; ``python train.py`` is process 0 of 1. One GPU per
    process with nccl, else CPU processes with gloo (which cannot exchange MPS tensors)."""
    return [
        '    distributed = "WORLD_SIZE" in os.environ  # started by torchrun',
        '    rank = int(os.environ.get("RANK", "0"))  # which process this is',
        '    world = int(os.environ.get("WORLD_SIZE", "1"))  # how many there are',
        "    main_process = rank == 0  # the one that prints and saves",
        "    if distributed:  # distributed: one GPU per process, or CPU processes",
        '        if device.type == "cuda":',
        '            device = torch.device("cuda", int(os.environ["LOCAL_RANK"]))',
        "            torch.cuda.set_device(device)",
        "        else:",
        '            device = torch.device("cpu")',
        '        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")',
    ]


# what np.load and the arrays' names raise for a damaged, pickled or foreign file (an .npy is no archive)
LOAD_ERRORS_NPZ = "OSError, EOFError, KeyError, TypeError, ValueError, BadZipFile"


def _setup_lines(s: TrainingSettings, total_params: int, npz: bool, transfer: Transfer) -> list[str]:
    lines = ["    torch.manual_seed(SEED)", *_device_lines(s.device)]
    if s.distributed:
        lines += _distributed_lines()
    if single_thread(total_params):
        lines += [
            '    if device.type == "cpu":',
            "        torch.set_num_threads(1)  # a model this small is fastest on one thread",
        ]
    lines += [
        "    try:",
        "        data = load_data()",
        f"    except ({LOAD_ERRORS_NPZ if npz else 'OSError, KeyError, ValueError'}) as error:",
        f'        raise SystemExit(f"Cannot load {"{DATA_FILE}" if npz else "the data"}: {{error}}") from None',
        "    x_train, y_train, x_val, y_val, x_test, y_test = [t.to(device) for t in data]",
        *script_transfer.model_lines(transfer),
    ]
    if not classifies(s):
        lines.append("    regression = y_train.is_floating_point()  # numeric targets: no accuracy")
    if s.distributed:
        lines += [
            "    if distributed:  # distributed: gradients are averaged over the processes",
            "        model = DDP(model)",
            "    batch_size = max(BATCH_SIZE // world, 1)  # distributed: a share of each batch",
        ]
    lines += [f"    loss_fn = nn.{s.loss}()", "    optimizer = make_optimizer(model)"]
    if s.scheduler != "none":
        if s.distributed:  # each process takes len(x_train) // world samples an epoch
            lines.append("    steps_per_epoch = math.ceil((len(x_train) // world) / batch_size)")
        else:
            lines.append("    steps_per_epoch = math.ceil(len(x_train) / BATCH_SIZE)")
        lines.append("    scheduler = make_scheduler(optimizer, steps_per_epoch)")
    if uses_amp(s):
        lines.append('    scaler = torch.amp.GradScaler("cuda", enabled=device.type == "cuda")  # GPU only')
    lines += ["    shuffle = torch.Generator().manual_seed(SEED)  # the order of the batches", "    history = []"]
    return lines


def _epoch_lines(s: TrainingSettings) -> list[str]:
    if s.distributed:
        batches = ["        batches = shuffled_batches(x_train, y_train, batch_size, shuffle, rank, world)"]
        results = "total_loss, correct, seen = train_one_epoch"
    else:  # a new random order each epoch, cut into batches
        batches = [
            "        order = torch.randperm(len(x_train), generator=shuffle).to(device)",
            "        batches = ((x_train[b], y_train[b]) for b in order.split(BATCH_SIZE))",
        ]
        results = "metrics = train_one_epoch"
    evaluate = ["model", "x_val", "y_val", "loss_fn", "EVAL_BATCH_SIZE"]
    validated = "val_loss, val_accuracy = evaluate"
    if not classifies(s):
        evaluate.insert(4, "LOSS")
        validated = "val_loss, val_accuracy, _ = evaluate"
    lines = [
        *batches,
        *call_lines("        ", results, train_epoch_parameters(s)),
    ]
    if s.distributed:
        lines += [
            "        if distributed:  # distributed: add up the sums of all processes",
            "            sums = torch.tensor([total_loss, correct, seen], dtype=torch.float64)",
            "            sums = sums.to(device)  # nccl adds up GPU tensors",
            "            dist.all_reduce(sums)",
            "            total_loss, correct, seen = sums.tolist()",
            '        metrics = {"loss": total_loss / seen, "accuracy": correct / seen}',
        ]
    lines += [
        *call_lines("        ", validated, evaluate),
        "        metrics.update(val_loss=val_loss, val_accuracy=val_accuracy)",
        '        history.append(dict(epoch=epoch, **metrics, lr=optimizer.param_groups[0]["lr"]))',
    ]
    shown_args = ['f"Epoch {epoch}/{EPOCHS}"', "{k: round(v, 4) for k, v in metrics.items()}"]
    kept = []
    if not classifies(s):
        kept = ['        kept = {k: v for k, v in metrics.items() if not (regression and "acc" in k)}']
        shown_args[1] = "{k: round(v, 4) for k, v in kept.items()}"
    shown = call_lines(" " * 8, "print", shown_args)
    if s.distributed:
        shown = [
            "        if main_process:  # distributed: only the first process prints",
            *call_lines(" " * 12, "print", shown_args),
        ]
    return lines + kept + shown + _end_of_epoch_call(s)


def _end_of_epoch_call(s: TrainingSettings) -> list[str]:
    """``main``'s call of ``end_of_epoch``, and the stop it may ask for."""
    params = end_of_epoch_parameters(s)
    if not params:
        return []
    call = f"end_of_epoch({', '.join(params)})"
    if not s.early_stopping:
        return [f"        {call}"]
    message = f'f"Early stopping: no better {s.monitor} for {{PATIENCE}} {epochs_word(s.early_stopping)}."'
    if s.distributed:
        shown = ["            if main_process:", *call_lines(" " * 16, "print", [message])]
    else:
        shown = call_lines(" " * 12, "print", [message])
    return [f"        if {call}:", *shown, "            break"]


def epochs_word(count: int) -> str:
    """'1 epoch', '3 epochs'."""
    return "epoch" if count == 1 else "epochs"


def _finish_lines(s: TrainingSettings) -> list[str]:
    evaluate = ["model", "x_test", "y_test", "loss_fn", "EVAL_BATCH_SIZE"]
    results = "test_loss, test_accuracy = evaluate"
    if not classifies(s):
        evaluate.insert(4, "LOSS")
        results = "test_loss, test_accuracy, _ = evaluate"
    lines = call_lines("    ", results, evaluate)
    shown = ['    print(f"Test loss: {test_loss:.4f} - test accuracy: {test_accuracy:.4f}")']
    if not classifies(s):  # a regression prints the app's figures (train's MAE, RMSE and R²)
        shown = [
            "    if regression:",
            '        print(f"Test loss: {test_loss:.4f}")',
            "        if len(y_test):",
            "            print(regression_figures(model, x_test, y_test, EVAL_BATCH_SIZE))",
            "    else:",
            "    " + shown[0],
        ]
    save = [
        *shown,
        '    torch.save(model.state_dict(), "model_weights.pt")',
        '    Path("history.json").write_text(json.dumps(history, indent=2))',
        '    print(f"Saved model_weights.pt and history.json in {Path.cwd()}")',  # the folder it ran in
    ]
    if not s.distributed:
        return lines + save
    return [
        *lines,
        "    if distributed:  # distributed: done together; keep the Net inside DDP",
        "        dist.barrier()  # every process has finished before the group closes",
        "        dist.destroy_process_group()",
        "        model = model.module",
        "    if main_process:  # distributed: only the first process prints and saves",
        *["    " + line for line in save],
    ]

"""The training loop of the exported script, written once: the script contains it and the app runs it.

``loop_functions`` emits ``make_optimizer``, ``make_scheduler``, the ``train_epoch`` generator and ``end_epoch``
(the per-epoch schedule, the best score and the epochs since it improved), specialised to the settings so a
beginner reads only the lines that apply (no gradient clipping line without clipping). The trainer executes the
script and drives these very functions (``core.training.trainer``), checking pause and stop between the batches
``train_epoch`` yields; ``main_lines`` is the script's own driver of them.

The same script runs under ``torchrun`` (docs/SCALING.md): the driver's few lines marked "distributed"
start the process group, wrap the model in ``DistributedDataParallel``, give each process its shard of every
epoch's order, add up the metrics of all processes and leave printing and saving to the first one;
``python train.py`` skips them and runs as one process. ``train_epoch`` is the same in both.
"""

from __future__ import annotations

import textwrap

from core.code.codegen import call_lines
from core.portable import steps
from core.settings import TrainingSettings

PLATEAU_PATIENCE = 3
NO_MOMENTUM = ("Adadelta", "Adagrad")  # OneCycleLR cannot cycle their momentum
# Below this many parameters a model trains fastest on one CPU thread: the threads of a bigger pool mostly
# wait for each other, and slow down badly when other programs keep the cores busy.
SMALL_MODEL_PARAMS = 200_000
EPOCH_SCHEDULERS = ("StepLR", "CosineAnnealingLR", "ReduceLROnPlateau")  # stepped once per epoch


def single_thread(total_params: int) -> bool:
    """Whether CPU training uses one thread (the app and the script decide alike, so their sums match)."""
    return total_params < SMALL_MODEL_PARAMS


def train_epoch_parameters(s: TrainingSettings) -> list[str]:
    """The arguments ``train_epoch`` takes for these settings (the trainer passes the same ones)."""
    names = ["model", "batches", "loss_fn", "optimizer"]
    if s.amp:
        names.append("scaler")
    if s.scheduler == "OneCycleLR":
        names.append("scheduler")
    return names


def end_epoch_parameters(s: TrainingSettings) -> list[str]:
    """The arguments ``end_epoch`` takes for these settings (the trainer passes the same ones)."""
    names = ["metrics", "best", "waited"]
    if s.scheduler in EPOCH_SCHEDULERS:
        names.insert(1, "scheduler")
    return names


def loop_functions(s: TrainingSettings, augmenting: bool) -> list[str]:
    """``make_optimizer``, ``make_scheduler`` (when there is one), ``train_epoch`` and ``end_epoch``, separated
    by blank lines."""
    lines = _make_optimizer(s)
    if s.scheduler != "none":
        lines += ["", "", *_make_scheduler(s)]
    return [*lines, "", "", *_train_epoch(s, augmenting), "", "", *_end_epoch(s)]


def _make_optimizer(s: TrainingSettings) -> list[str]:
    args = ["model.parameters()", "lr=LEARNING_RATE"]
    if s.optimizer in ("SGD", "RMSprop") and s.momentum:
        args.append(f"momentum={s.momentum!r}")
    if s.optimizer == "SGD" and s.nesterov:
        args.append("nesterov=True")
    if s.weight_decay:
        args.append(f"weight_decay={s.weight_decay!r}")
    return [
        "def make_optimizer(model: nn.Module) -> torch.optim.Optimizer:",
        '    """What changes the weights after each batch, and how fast."""',
        *call_lines("    ", f"return torch.optim.{s.optimizer}", args),
    ]


def _make_scheduler(s: TrainingSettings) -> list[str]:
    if s.scheduler == "StepLR":
        args = ["optimizer", f"step_size={s.step_size}", f"gamma={s.gamma!r}"]
    elif s.scheduler == "CosineAnnealingLR":
        args = ["optimizer", "T_max=EPOCHS"]
    elif s.scheduler == "OneCycleLR":
        args = ["optimizer", "max_lr=LEARNING_RATE", "total_steps=EPOCHS * steps_per_epoch"]
        if s.optimizer in NO_MOMENTUM:
            args.append("cycle_momentum=False")
    else:  # ReduceLROnPlateau
        mode = '"max"' if s.monitor.endswith("accuracy") else '"min"'
        args = ["optimizer", f"mode={mode}", f"factor={s.gamma!r}", f"patience={PLATEAU_PATIENCE}"]
    return [
        "def make_scheduler(optimizer: torch.optim.Optimizer, steps_per_epoch: int):",
        '    """How the learning rate changes during training."""',
        *call_lines("    ", f"return torch.optim.lr_scheduler.{s.scheduler}", args),
    ]


def _train_epoch(s: TrainingSettings, augmenting: bool) -> list[str]:
    params = train_epoch_parameters(s)
    return [
        *call_lines("", "def train_epoch", params, tail=":"),
        '    """One pass over the training data: for each batch, predict, measure the loss and update',
        '    the weights, then hand the outputs, the labels and the loss to the caller."""',
        "    model.train()",
        "    for inputs, labels in batches:",
        *_train_step(s, augmenting),
        "        yield outputs, labels, loss.item()",
    ]


def _train_step(s: TrainingSettings, augmenting: bool) -> list[str]:
    i = " " * 8
    target = "labels" if s.loss in steps.CLASS_LOSSES else "to_target(outputs, labels, LOSS)"
    lines = []
    if augmenting:
        rot = float(s.augment_rotation)
        lines.append(f"{i}inputs = augment(inputs, {s.augment_flip!r}, {rot!r}, {s.augment_shift})")
    if s.amp:  # mixed precision: the scaler is switched off off the GPU, and then these are plain steps
        lines += [
            f"{i}with torch.autocast(inputs.device.type, enabled=scaler.is_enabled()):",
            f"{i}    outputs = model(inputs)",
            f"{i}    loss = loss_fn(outputs, {target})",
            f"{i}optimizer.zero_grad()",
            f"{i}scaler.scale(loss).backward()",
        ]
        if s.grad_clip:
            lines += [f"{i}scaler.unscale_(optimizer)", f"{i}nn.utils.clip_grad_norm_(model.parameters(), GRAD_CLIP)"]
        lines += [f"{i}scaler.step(optimizer)", f"{i}scaler.update()"]
    else:
        lines += [
            f"{i}outputs = model(inputs)",
            f"{i}loss = loss_fn(outputs, {target})",
            f"{i}optimizer.zero_grad()",
            f"{i}loss.backward()",
        ]
        if s.grad_clip:
            lines.append(f"{i}nn.utils.clip_grad_norm_(model.parameters(), GRAD_CLIP)")
        lines.append(f"{i}optimizer.step()")
    if s.scheduler == "OneCycleLR":
        lines.append(f"{i}scheduler.step()")
    return lines


def _end_epoch(s: TrainingSettings) -> list[str]:
    """What happens after each epoch: the per-epoch schedule steps, and the best score so far is kept with the
    number of epochs since it improved (early stopping stops on it; the app saves that epoch's weights)."""
    monitor = s.monitor
    fallback = monitor.removeprefix("val_")
    better = "score > best" if monitor.endswith("accuracy") else "score < best"
    lines = [
        *call_lines("", "def end_epoch", end_epoch_parameters(s), tail=" -> tuple:"),
        *_end_epoch_doc(s),
        f'    score = metrics["{monitor}"]',
    ]
    if monitor != fallback:
        lines += [
            f"    if math.isnan(score):  # no validation data: watch the training {fallback}",
            f'        score = metrics["{fallback}"]',
        ]
    if s.scheduler == "ReduceLROnPlateau":
        lines.append("    scheduler.step(score)  # lowers the learning rate when the score stalls")
    elif s.scheduler in EPOCH_SCHEDULERS:
        lines.append("    scheduler.step()")
    return [
        *lines,
        f"    if best is None or {better}:",
        "        return score, 0  # a new best score",
        "    return best, waited + 1",
    ]


def _end_epoch_doc(s: TrainingSettings) -> list[str]:
    """The docstring of ``end_epoch``, saying only what these settings do and why the count is kept."""
    step = "step the learning rate's schedule, " if s.scheduler in EPOCH_SCHEDULERS else ""
    if s.early_stopping:
        why = "early stopping stops when the count reaches PATIENCE"
    else:
        why = "TorchCanvas keeps that epoch's weights; early stopping would stop on the count"
    text = f"After each epoch: {step}keep the best {s.monitor} so far and count the epochs since it improved ({why})."
    lines = textwrap.wrap(text, width=85, initial_indent='    """', subsequent_indent="    ")
    return [*lines[:-1], lines[-1] + '"""']


def main_lines(s: TrainingSettings, total_params: int) -> list[str]:
    """The script's ``main``: set up, train epoch by epoch with ``train_epoch``, test and save."""
    return [
        "def main() -> None:",
        *_setup_lines(s, total_params),
        "",
        "    for epoch in range(1, EPOCHS + 1):",
        *_epoch_lines(s),
        "",
        *_finish_lines(),
    ]


def _device_lines(device: str) -> list[str]:
    if device == "cpu":
        return ['    device = torch.device("cpu")']
    if device == "cuda":
        return ['    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")']
    if device == "mps":
        return ['    device = torch.device("mps" if torch.backends.mps.is_available() else "cpu")']
    return [
        "    if torch.cuda.is_available():",
        '        device = torch.device("cuda")',
        "    elif torch.backends.mps.is_available():",
        '        device = torch.device("mps")',
        "    else:",
        '        device = torch.device("cpu")',
    ]


def _distributed_lines() -> list[str]:
    """Who this process is: torchrun sets the variables; ``python train.py`` is process 0 of 1."""
    return [
        '    distributed = "WORLD_SIZE" in os.environ  # started by torchrun',
        '    rank = int(os.environ.get("RANK", "0"))  # which process this is',
        '    world = int(os.environ.get("WORLD_SIZE", "1"))  # how many there are',
        "    main_process = rank == 0  # the one that prints and saves",
    ]


def _distributed_device_lines() -> list[str]:
    """One GPU per process with nccl, else CPU processes with gloo (which cannot exchange MPS tensors)."""
    return [
        "    if distributed:  # distributed: one GPU per process, or CPU processes",
        '        if device.type == "cuda":',
        '            device = torch.device("cuda", int(os.environ["LOCAL_RANK"]))',
        "            torch.cuda.set_device(device)",
        "        else:",
        '            device = torch.device("cpu")',
        '        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")',
    ]


def _setup_lines(s: TrainingSettings, total_params: int) -> list[str]:
    lines = [*_distributed_lines(), "    torch.manual_seed(SEED)", *_device_lines(s.device)]
    lines += _distributed_device_lines()
    if single_thread(total_params):
        lines += [
            '    if device.type == "cpu":',
            "        torch.set_num_threads(1)  # a model this small is fastest on one thread",
        ]
    lines += [
        "    try:",
        "        data = load_data()",
        "    except (OSError, ValueError) as error:  # a bad data file: say which, and stop",
        '        raise SystemExit(f"Cannot load the data: {error}") from None',
        '    x_train, y_train = data["x_train"].to(device), data["y_train"].to(device)',
        '    x_val, y_val = data["x_val"].to(device), data["y_val"].to(device)',
        '    x_test, y_test = data["x_test"].to(device), data["y_test"].to(device)',
        "",
        "    model = Net().to(device)",
        "    if distributed:  # distributed: gradients are averaged over the processes",
        "        model = DDP(model)",
        f"    loss_fn = nn.{s.loss}()",
        "    optimizer = make_optimizer(model)",
        "    batch_size = max(BATCH_SIZE // world, 1)  # distributed: a share of each batch",
        "    steps_per_epoch = math.ceil(len(x_train) // world / batch_size)",
    ]
    if s.scheduler != "none":
        lines.append("    scheduler = make_scheduler(optimizer, steps_per_epoch)")
    if s.amp:
        lines += [
            '    use_amp = device.type == "cuda"  # mixed precision on the GPU only',
            '    scaler = torch.amp.GradScaler("cuda", enabled=use_amp)',
        ]
    lines += ["    shuffle = torch.Generator().manual_seed(SEED)  # the order of the batches", "    history = []"]
    lines.append("    best, waited = None, 0  # the best score so far, and epochs since it improved")
    return lines


def _epoch_lines(s: TrainingSettings) -> list[str]:
    lines = [
        "        started = time.perf_counter()",
        "        total_loss, correct, seen = 0.0, 0, 0",
        "        batches = shuffled_batches(x_train, y_train, batch_size, shuffle, rank, world)",
        *call_lines("        ", "for outputs, labels, loss in train_epoch", train_epoch_parameters(s), tail=":"),
        "            total_loss += loss * len(labels)",
        "            correct += (classes_of(outputs, LOSS) == labels).sum().item()",
        "            seen += len(labels)",
        "        seconds = time.perf_counter() - started",
        "        if distributed:  # distributed: add up the sums of all processes",
        "            sums = torch.tensor([total_loss, correct, seen], dtype=torch.float64)",
        "            sums = sums.to(device)  # nccl adds up GPU tensors",
        "            dist.all_reduce(sums)",
        "            total_loss, correct, seen = sums.tolist()",
        "        val_loss, val_accuracy, _ = evaluate(",
        "            model, x_val, y_val, loss_fn, LOSS, EVAL_BATCH_SIZE",
        "        )",
        "        metrics = {",
        '            "loss": total_loss / seen,',
        '            "accuracy": correct / seen,',
        '            "val_loss": val_loss,',
        '            "val_accuracy": val_accuracy,',
        "        }",
        '        lr = optimizer.param_groups[0]["lr"]',
        '        history.append({"epoch": epoch, **metrics, "lr": lr, "seconds": seconds})',
        "        if main_process:  # distributed: only the first process prints",
        '            print(f"Epoch {epoch}/{EPOCHS}")',
        "            print(progress_line(steps_per_epoch, seconds, seen, metrics))",
    ]
    return lines + _end_of_epoch_lines(s)


def _end_of_epoch_lines(s: TrainingSettings) -> list[str]:
    """Step the schedule and judge early stopping with ``end_epoch``, as the trainer does."""
    lines = [*call_lines("        ", "best, waited = end_epoch", end_epoch_parameters(s))]
    lines += [
        "        if main_process and waited == 0:  # the app saves these weights as best.pt",
        '            print(f"  new best score: {best:.4f}")',
    ]
    if s.early_stopping:
        lines += [
            "        if waited >= PATIENCE:",
            "            if main_process:",
            *_print_lines(
                " " * 16,
                f'f"Early stopping: no better {s.monitor} for {{PATIENCE}} {epochs_word(s.early_stopping)}."',
            ),
            "            break",
        ]
    return lines


def epochs_word(count: int) -> str:
    """'1 epoch', '3 epochs'."""
    return "epoch" if count == 1 else "epochs"


def _print_lines(indent: str, text: str) -> list[str]:
    """``print(text)``, split over three lines where ruff format would split it."""
    if len(indent) + len(text) + len("print()") <= 88:
        return [f"{indent}print({text})"]
    return [f"{indent}print(", f"{indent}    {text}", f"{indent})"]


def _finish_lines() -> list[str]:
    return [
        "    test_loss, test_accuracy, _ = evaluate(",
        "        model, x_test, y_test, loss_fn, LOSS, EVAL_BATCH_SIZE",
        "    )",
        "    if distributed:  # distributed: done together; keep the Net inside DDP",
        "        dist.barrier()  # every process has finished before the group closes",
        "        dist.destroy_process_group()",
        "        model = model.module",
        "    if main_process:  # distributed: only the first process prints and saves",
        '        print(f"Test loss: {test_loss:.4f} - test accuracy: {test_accuracy:.4f}")',
        "        torch.save(model.state_dict(), WEIGHTS_FILE)",
        '        Path("history.json").write_text(json.dumps(history, indent=2))',
        '        print(f"Saved the weights to {WEIGHTS_FILE}")',
    ]

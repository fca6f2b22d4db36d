"""The exported script's ``main``: set up, then epoch by epoch ``train_one_epoch``,
``evaluate`` and ``end_of_epoch``, then test and save (``core.code.script_main`` picks
the lines of a project's settings; the trainer runs the same functions in this order).

Flags: the device (``cpu``, ``cuda``, ``mps``, ``auto``: one of them), ``dist`` run
under torchrun (the lines marked "distributed"), ``small`` few multiply-adds a batch:
one CPU thread (``core.code.script_loop.single_thread``), ``npz`` the short .npz
loader, ``initial`` earlier weights (``torchvision`` ones, or a file:
``start_from_file``), ``frozen`` parts, ``phases`` fine-tuning's phase two,
``classes`` a class loss, ``regression`` numbers to predict (no accuracy; with
``dist``, ``total_loss, correct, seen`` loses ``correct``), ``sched`` a schedule
(``epochly``: ``scheduler.step()`` after validation, ``plateau``: stepped with a
score in ``end_of_epoch``, ``onecycle``: after each batch, built with
``steps_per_epoch``; ``span``: made for each phase's epochs), ``amp`` mixed
precision, ``stops`` early stopping, ``stream`` an image folder too big for memory: a
Dataset per split, read through DataLoaders (``core.portable.image_stream``).
Placeholders: ``LOSS_FN``, ``TORCHVISION_WEIGHTS``, and in the early stopping message
``MONITOR`` and ``EPOCH_WORD``.
"""

from __future__ import annotations

import copy
import json
import math
import os
from pathlib import Path
from zipfile import BadZipFile

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel as DDP
from torch.utils.data import DataLoader, DistributedSampler

from core.code.templates.loop import regression_figures
from core.code.templates.script_names import (
    BATCH_SIZE,
    DATA_FILE,
    EPOCHS,
    EVAL_BATCH_SIZE,
    FREEZE_EPOCHS,
    LEARNING_RATE,
    LOSS,
    LOSS_FN,
    PATIENCE,
    SEED,
    TORCHVISION_WEIGHTS,
    UNFREEZE_LR_FACTOR,
    WORKERS,
    Net,
    end_of_epoch,
    evaluate,
    load_data,
    make_optimizer,
    make_scheduler,
    train_one_epoch,
)
from core.code.templates.transfer import freeze, start_from, start_from_file, unfreeze
from core.portable.steps import shuffled_batches


def main() -> None:
    torch.manual_seed(SEED)
    device = torch.device("cpu")  # [cpu]
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")  # [cuda]
    # [mps]
    device = torch.device("mps" if torch.backends.mps.is_available() else "cpu")
    cuda, mps = torch.cuda.is_available(), torch.backends.mps.is_available()  # [auto]
    device = torch.device("cuda" if cuda else "mps" if mps else "cpu")  # [auto]
    distributed = "WORLD_SIZE" in os.environ  # started by torchrun  # [dist]
    rank = int(os.environ.get("RANK", "0"))  # which process this is  # [dist]
    world = int(os.environ.get("WORLD_SIZE", "1"))  # how many there are  # [dist]
    main_process = rank == 0  # the one that prints and saves  # [dist]
    if distributed:  # distributed: one GPU per process, or CPU processes  # [dist]
        if device.type == "cuda":
            device = torch.device("cuda", int(os.environ["LOCAL_RANK"]))
            torch.cuda.set_device(device)
        else:
            device = torch.device("cpu")
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    if device.type == "cpu":  # [small]
        torch.set_num_threads(1)  # few multiply-adds a batch: one thread is fastest
    try:  # [npz]
        data = load_data()
    except (OSError, EOFError, KeyError, TypeError, ValueError, BadZipFile) as error:
        raise SystemExit(f"Cannot load {DATA_FILE}: {error}") from None
    try:  # [!npz]
        data = load_data()  # [!vocab]
        *data, vocab = load_data()  # the splits, then the vocabulary  # [vocab]
    except (OSError, KeyError, ValueError) as error:
        raise SystemExit(f"Cannot load the data: {error}") from None
    # [!stream]
    x_train, y_train, x_val, y_val, x_test, y_test = [t.to(device) for t in data]
    # [stream]
    train_set, val_set, test_set = data  # Datasets: pictures read when needed
    model = Net().to(device)  # [!initial]
    model = Net()  # [initial]
    weights = TORCHVISION_WEIGHTS  # [torchvision]
    # [torchvision]
    loaded, new = start_from(model, weights.get_state_dict(check_hash=True))
    # [torchvision]
    print(f"From {weights}: {len(loaded)} tensors loaded, {len(new)} new:", *new[:6])
    start_from_file(model)  # [initial !torchvision]
    model = model.to(device)  # [initial]
    freeze(model)  # [frozen]
    if distributed:  # distributed: gradients are averaged over the processes  # [dist]
        model = DDP(model)
    # distributed: each process takes a share of the batch and DDP averages their  # [dist]
    # gradients, so a step learns from BATCH_SIZE samples (if world divides it)  # [dist]
    batch_size = max(BATCH_SIZE // world, 1)  # [dist]
    loss_fn = LOSS_FN()
    optimizer = make_optimizer(model)
    share = len(x_train) // world  # each process's samples  # [onecycle dist]
    steps_per_epoch = math.ceil(share / batch_size)  # [onecycle dist]
    steps_per_epoch = math.ceil(len(x_train) / BATCH_SIZE)  # [onecycle !dist]
    scheduler = make_scheduler(  # [sched]
        optimizer,
        steps_per_epoch,  # [onecycle]
        FREEZE_EPOCHS,  # [span]
    )
    # [amp]
    scaler = torch.amp.GradScaler("cuda", enabled=device.type == "cuda")  # GPU only
    # [!stream]
    shuffle = torch.Generator().manual_seed(SEED)  # DataLoader(shuffle=True), by hand
    # [stream !dist]
    train_loader = DataLoader(
        train_set,
        batch_size=BATCH_SIZE,
        shuffle=True,  # a new order every epoch, drawn from SEED
        generator=torch.Generator().manual_seed(SEED),
        num_workers=WORKERS,
    )
    # [stream dist]
    shard: DistributedSampler = DistributedSampler(
        train_set, world, rank, seed=SEED, drop_last=True
    )
    # [stream dist]
    train_loader = DataLoader(
        train_set, batch_size=batch_size, sampler=shard, num_workers=WORKERS
    )
    val_loader = DataLoader(val_set, EVAL_BATCH_SIZE, num_workers=WORKERS)  # [stream]
    test_loader = DataLoader(test_set, EVAL_BATCH_SIZE, num_workers=WORKERS)  # [stream]
    history = []
    for epoch in range(1, EPOCHS + 1):
        if epoch == FREEZE_EPOCHS + 1:  # phase two: every layer trains now  # [phases]
            optimizer = unfreeze(model)
            if distributed:  # distributed: DDP learns which weights train now  # [dist]
                model = DDP(model.module)
            scheduler = make_scheduler(  # [sched]
                optimizer,
                steps_per_epoch,  # [onecycle]
                EPOCHS - FREEZE_EPOCHS,  # [span]
            )
            if main_process:  # [dist]
                print(
                    "Phase two: every layer trains now, at learning rate "
                    f"{LEARNING_RATE * UNFREEZE_LR_FACTOR:g}"
                )
            print(  # [!dist]
                "Phase two: every layer trains now, at learning rate "
                f"{LEARNING_RATE * UNFREEZE_LR_FACTOR:g}"
            )
        # [dist !stream]
        batches = shuffled_batches(x_train, y_train, batch_size, shuffle, rank, world)
        # [!dist !stream]
        order = torch.randperm(len(x_train), generator=shuffle).to(device)
        # [!dist !stream]
        batches = ((x_train[b], y_train[b]) for b in order.split(BATCH_SIZE))
        shard.set_epoch(epoch)  # distributed: a new order every epoch  # [stream dist]
        # [stream]
        batches = ((x.to(device), y.to(device)) for x, y in train_loader)
        total_loss, correct, seen = train_one_epoch(  # [dist]
            model,
            batches,
            loss_fn,
            optimizer,
            scaler,  # [amp]
            scheduler,  # [onecycle]
        )
        metrics = train_one_epoch(  # [!dist]
            model,
            batches,
            loss_fn,
            optimizer,
            scaler,  # [amp]
            scheduler,  # [onecycle]
        )
        if distributed:  # distributed: add up the sums of all processes  # [dist]
            sums = torch.tensor([total_loss, correct, seen], dtype=torch.float64)
            sums = sums.to(device)  # nccl adds up GPU tensors
            dist.all_reduce(sums)
            total_loss, correct, seen = sums.tolist()
        # [dist !regression]
        metrics = {"loss": total_loss / seen, "accuracy": correct / seen}
        metrics = {"loss": total_loss / seen}  # [dist regression]
        # [classes !stream]
        val_loss, val_accuracy = evaluate(model, x_val, y_val, loss_fn, EVAL_BATCH_SIZE)
        # [stream class_loss]
        val_loss, val_accuracy = evaluate(model, val_loader, loss_fn, device)
        # [stream !class_loss]
        val_loss, val_accuracy = evaluate(model, val_loader, loss_fn, LOSS, device)
        # [!classes !regression]
        val_loss, val_accuracy, _ = evaluate(
            model, x_val, y_val, loss_fn, LOSS, EVAL_BATCH_SIZE
        )
        metrics.update(val_loss=val_loss, val_accuracy=val_accuracy)  # [!regression]
        # [regression]
        metrics["val_loss"] = evaluate(model, x_val, y_val, loss_fn, EVAL_BATCH_SIZE)
        history.append(dict(epoch=epoch, **metrics, lr=optimizer.param_groups[0]["lr"]))
        # [!dist]
        print(f"Epoch {epoch}/{EPOCHS}", {k: round(v, 4) for k, v in metrics.items()})
        if main_process:  # distributed: only the first process prints  # [dist]
            print(
                f"Epoch {epoch}/{EPOCHS}", {k: round(v, 4) for k, v in metrics.items()}
            )
        scheduler.step()  # the next epoch's learning rate  # [epochly]
        end_of_epoch(history, scheduler)  # [plateau !stops]
        since_best = end_of_epoch(  # [stops]
            history,
            scheduler,  # [plateau]
        )
        if since_best == 0:  # the best MONITOR so far: keep a copy  # [stops]
            best_weights = copy.deepcopy(model.state_dict())
        elif since_best >= PATIENCE:
            if main_process:  # [dist]
                print(f"Early stopping: no better MONITOR for {PATIENCE} EPOCH_WORD.")
            # [!dist]
            print(f"Early stopping: no better MONITOR for {PATIENCE} EPOCH_WORD.")
            break
    model.load_state_dict(best_weights)  # the best epoch's: tested and saved  # [stops]
    # [classes !stream]
    test_loss, test_accuracy = evaluate(model, x_test, y_test, loss_fn, EVAL_BATCH_SIZE)
    # [stream class_loss]
    test_loss, test_accuracy = evaluate(model, test_loader, loss_fn, device)
    # [stream !class_loss]
    test_loss, test_accuracy = evaluate(model, test_loader, loss_fn, LOSS, device)
    # [!classes !regression]
    test_loss, test_accuracy, _ = evaluate(
        model, x_test, y_test, loss_fn, LOSS, EVAL_BATCH_SIZE
    )
    # [regression]
    test_loss = evaluate(model, x_test, y_test, loss_fn, EVAL_BATCH_SIZE)
    if distributed:  # distributed: done together; keep the Net inside DDP  # [dist]
        dist.barrier()  # every process has finished before the group closes
        dist.destroy_process_group()
        model = model.module
    if main_process:  # distributed: only the first process prints and saves  # [dist]
        # [!regression]
        print(f"Test loss: {test_loss:.4f} - test accuracy: {test_accuracy:.4f}")
        print(f"Test loss: {test_loss:.4f}")  # [regression]
        if len(y_test):  # numbers: judged as the app judges them  # [regression]
            print(regression_figures(model, x_test, y_test, EVAL_BATCH_SIZE))
        torch.save(model.state_dict(), "model_weights.pt")
        # what a new text needs beside the weights: its token ids, the class names  # [vocab]
        # [vocab]
        Path("vocab.json").write_text(
            json.dumps(vocab, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
        )
        Path("history.json").write_text(json.dumps(history, indent=2))
        print(f"Saved model_weights.pt and history.json in {Path.cwd()}")  # [!vocab]
        # [vocab]
        print(f"Saved model_weights.pt, vocab.json and history.json in {Path.cwd()}")
    # [!dist !regression]
    print(f"Test loss: {test_loss:.4f} - test accuracy: {test_accuracy:.4f}")
    print(f"Test loss: {test_loss:.4f}")  # [!dist regression]
    if len(y_test):  # numbers: judged as the app judges them  # [!dist regression]
        print(regression_figures(model, x_test, y_test, EVAL_BATCH_SIZE))
    torch.save(model.state_dict(), "model_weights.pt")  # [!dist]
    # what a new text needs beside the weights: its token ids, the class names  # [!dist vocab]
    # [!dist vocab]
    Path("vocab.json").write_text(
        json.dumps(vocab, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )
    Path("history.json").write_text(json.dumps(history, indent=2))  # [!dist]
    print(f"Saved model_weights.pt and history.json in {Path.cwd()}")  # [!dist !vocab]
    # [!dist vocab]
    print(f"Saved model_weights.pt, vocab.json and history.json in {Path.cwd()}")

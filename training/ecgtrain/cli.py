"""One command, `ecgtrain`, with a subcommand per stage: prepare, train, evaluate, export."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .data import TASKS, DataError
from .stress import STRESSES


def main(argv: list[str] | None = None) -> None:
    """Parses the arguments and runs the chosen stage; input problems end with a one-line error and status 2."""
    parser = argparse.ArgumentParser(prog="ecgtrain", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    prepare = commands.add_parser("prepare", help="read PTB-XL (PhysioNet layout, 100 Hz) into one .npz")
    prepare.add_argument("--ptbxl", required=True, type=Path, help="folder with ptbxl_database.csv and records100/")
    prepare.add_argument("--out", required=True, type=Path, help="the .npz to write")

    train = commands.add_parser("train", help="train IncepSE on folds 1-8, validating on fold 9")
    train.add_argument("--data", required=True, type=Path, help="the .npz written by prepare")
    train.add_argument("--out", required=True, type=Path, help="run folder: checkpoints and history")
    train.add_argument("--task", default="all", choices=TASKS)
    train.add_argument("--epochs", type=int, default=50)
    train.add_argument("--batch-size", type=int, default=128)
    train.add_argument("--learning-rate", type=float, default=0.01)
    train.add_argument("--weight-decay", type=float, default=0.01)
    train.add_argument("--warmup-epochs", type=float, default=5.0)
    train.add_argument("--clip-norm", type=float, default=1.0)
    train.add_argument("--highpass-hz", type=float, default=None, help="causal Butterworth high-pass cut-off")
    train.add_argument("--pos-weight", default="none", choices=("none", "sqrt"), help="class-imbalance weighting")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--max-records", type=int, default=None, help="use only the first N records (dry runs)")
    train.add_argument(
        "--augment", default="", help="artefacts added to training crops: 'all' or a comma-separated subset of "
        "wander,emg,motion,powerline,scale,mask (docs/training.md gives the ranges)"
    )
    train.add_argument(
        "--class-weight",
        default="",
        help="CODE=WEIGHT,...: classes whose loss counts WEIGHT times, e.g. the default alarm classes",
    )
    train.add_argument("--init-from", default=None, help="start from an exported model's weights (.onnx)")
    train.add_argument(
        "--architecture", default="windowed", choices=("windowed", "streaming"),
        help="windowed IncepSE, or the causal streaming IncepSE the daemon serves incrementally",
    )
    train.add_argument("--window-samples", type=int, default=250, help="training crop length (samples)")
    train.add_argument(
        "--hop-samples", type=int, default=None,
        help="validation hop: between windows (default 125), or between a streaming model's readouts (default 50)",
    )
    train.add_argument(
        "--time-constant-samples", type=float, default=250.0,
        help="streaming: time constant of the running means feeding the gates and the head (samples)",
    )
    train.add_argument(
        "--readout-first-samples", type=int, default=250, help="streaming: the first readout, samples into a stream"
    )
    train.add_argument("--device", default="cpu", help="torch device, e.g. cpu or cuda")
    train.add_argument("--resume", action="store_true", help="continue from the run folder's checkpoint")
    train.add_argument("--no-progress", action="store_true", help="no progress bar (logs only)")

    evaluate = commands.add_parser("evaluate", help="fit thresholds on fold 9, evaluate on fold 10, write the report")
    evaluate.add_argument("--data", required=True, type=Path, help="the .npz written by prepare")
    evaluate.add_argument("--run", required=True, type=Path, help="run folder holding best.pt")
    evaluate.add_argument("--out", required=True, type=Path, help="folder for the report and ROC plot")
    evaluate.add_argument("--name", required=True, help="model name, e.g. ecg-incepse-all")
    evaluate.add_argument("--budget", default="", help="one line on the training budget, for the report")
    evaluate.add_argument("--compare", nargs="*", type=Path, default=[], help="other run folders to list (fold 9)")
    evaluate.add_argument(
        "--baseline-points", type=Path, default=None,
        help="another model's operating-points JSON, compared in the report's robustness section",
    )
    evaluate.add_argument("--baseline-name", default="previous model", help="what the report calls that model")

    points = commands.add_parser(
        "operating-points", help="fit alarm thresholds on fold 9 through the alarm rule; measure them clean and stressed"
    )
    points.add_argument("--data", required=True, type=Path, help="the .npz written by prepare")
    points.add_argument("--model", required=True, type=Path, help="an exported model (.onnx)")
    points.add_argument("--out", required=True, type=Path, help="the JSON to write")
    points.add_argument("--cache", required=True, type=Path, help="folder for scored windows (reused when present)")
    points.add_argument("--stresses", default=",".join(STRESSES), help="comma-separated, of " + ", ".join(STRESSES))
    points.add_argument("--alarm-set", default=None, help="comma-separated classes (default: proposed from fold 9)")
    points.add_argument("--no-masked-test", action="store_true", help="skip the per-masked-lead fold-10 measurement")
    points.add_argument("--stress-only", action="store_true", help="only score the stressed windows into the cache")
    points.add_argument("--test-subset", action="store_true", help="check on the fold-10 stress subset, not all of it")

    export = commands.add_parser("export", help="write the ONNX model with metadata and check it against ONNX Runtime")
    export.add_argument("--run", required=True, type=Path, help="run folder holding best.pt and evaluation.json")
    export.add_argument("--out", required=True, type=Path, help="the .onnx to write")

    args = parser.parse_args(argv)
    try:
        _run(args)
    except (DataError, FileNotFoundError, ValueError) as error:
        print(f"ecgtrain {args.command}: {error}", file=sys.stderr)
        sys.exit(2)


def _run(args: argparse.Namespace) -> None:
    if args.command == "prepare":
        from .data import PtbXl

        data = PtbXl.from_physionet(args.ptbxl)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        data.save(args.out)
        print(f"{len(data.ecg_id)} records -> {args.out}")
    elif args.command == "train":
        from .augment import parse_augmentations
        from .data import PtbXl
        from .train import CHECKPOINT, Trainer, TrainConfig

        config = TrainConfig(
            task=args.task,
            epochs=args.epochs,
            batch_size=args.batch_size,
            learning_rate=args.learning_rate,
            weight_decay=args.weight_decay,
            warmup_epochs=args.warmup_epochs,
            clip_norm=args.clip_norm,
            highpass_hz=args.highpass_hz,
            pos_weight=args.pos_weight,
            seed=args.seed,
            max_records=args.max_records,
            augment=",".join(parse_augmentations(args.augment)),
            init_from=args.init_from,
            class_weight=args.class_weight,
            architecture=args.architecture,
            window_samples=args.window_samples,
            hop_samples=args.hop_samples or (50 if args.architecture == "streaming" else 125),
            time_constant_samples=args.time_constant_samples,
            readout_first_samples=args.readout_first_samples,
        )
        trainer = Trainer(config, PtbXl.load(args.data), args.out, args.device)
        if args.resume:
            trainer.resume(args.out / CHECKPOINT)
        history = trainer.run(progress=not args.no_progress)
        if not history:
            print("nothing left to train")
            return
        best = max(history, key=lambda record: record["validation_macro_auroc"])
        print(f"best epoch {best['epoch']}: validation macro AUROC {best['validation_macro_auroc']:.4f}")
    elif args.command == "evaluate":
        from .report import evaluate_run

        evaluate_run(
            args.data, args.run, args.out, args.name, args.budget, tuple(args.compare), args.baseline_points,
            args.baseline_name,
        )
    elif args.command == "operating-points":
        from .monitoring import operating_points

        operating_points(
            args.data,
            args.model,
            args.out,
            args.cache,
            stresses=tuple(name for name in args.stresses.split(",") if name),
            alarm_set=tuple(args.alarm_set.split(",")) if args.alarm_set else None,
            masked_test=not args.no_masked_test,
            stress_only=args.stress_only,
            test_subset_only=args.test_subset,
        )
    elif args.command == "export":
        from .export import export_run

        export_run(args.run, args.out)

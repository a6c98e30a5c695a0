"""PTB-XL on disk → arrays, folds and the benchmark's label tasks.

Signals are kept as int16 in µV (PTB-XL stores ADC units at a gain of 1000 per mV with baseline 0), channels-major
`[records][leads][samples]`, leads in `LEADS` order. Label tasks follow the PTB-XL benchmark (Strodthoff et al.,
2020): every key of a record's `scp_codes` counts regardless of its likelihood value, and records without any label
of a task are left out of that task.
"""

from __future__ import annotations

import ast
import io
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

LEADS = ("I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6")
TASKS = ("all", "diagnostic", "subdiagnostic", "superdiagnostic", "form", "rhythm")
SAMPLE_RATE_HZ = 100
GAIN_PER_MV = 1000.0
TRAIN_FOLDS = (1, 2, 3, 4, 5, 6, 7, 8)
VALIDATION_FOLDS = (9,)
TEST_FOLDS = (10,)


SUPERCLASS_NAMES = {
    "NORM": "normal ECG",
    "MI": "myocardial infarction",
    "STTC": "ST/T change",
    "CD": "conduction disturbance",
    "HYP": "hypertrophy",
}


class DataError(Exception):
    """Input data that cannot be used as PTB-XL; the message names the file and the problem."""


def read_statements(source: str | Path) -> pd.DataFrame:
    """Reads PTB-XL's `scp_statements.csv` (a path, or the CSV text itself when it contains a newline).

    - Returns: one row per SCP code, indexed by code, with the columns the tasks need.
    - Throws: `DataError` when a required column is missing.
    """
    text = str(source)
    handle = io.StringIO(text) if "\n" in text else Path(text)
    table = pd.read_csv(handle, index_col=0)
    required = ["description", "diagnostic", "form", "rhythm", "diagnostic_class", "diagnostic_subclass"]
    missing = [column for column in required if column not in table.columns]
    if missing:
        raise DataError(f"scp_statements.csv lacks columns {missing}")
    return table


def task_mapping(statements: pd.DataFrame, task: str) -> dict[str, str]:
    """Maps each SCP code that counts for `task` to the label it gives (itself, or its diagnostic (sub)class)."""
    diagnostic = statements[statements.diagnostic == 1]
    if task == "all":
        return {code: code for code in statements.index}
    if task == "diagnostic":
        return {code: code for code in diagnostic.index}
    if task == "subdiagnostic":
        return dict(zip(diagnostic.index, diagnostic.diagnostic_subclass))
    if task == "superdiagnostic":
        return dict(zip(diagnostic.index, diagnostic.diagnostic_class))
    if task in ("form", "rhythm"):
        return {code: code for code in statements.index[statements[task] == 1]}
    raise DataError(f"unknown task '{task}'; expected one of {', '.join(TASKS)}")


def task_classes(statements: pd.DataFrame, task: str) -> list[str]:
    """The labels of `task` in output order (sorted, as scikit-learn's MultiLabelBinarizer orders them)."""
    return sorted(set(task_mapping(statements, task).values()))


def class_descriptions(statements: pd.DataFrame, classes: list[str]) -> list[str]:
    """A human-readable description per class: the statement's text, or for a (sub)class its member codes."""
    descriptions = []
    for label in classes:
        if label in statements.index:
            descriptions.append(str(statements.loc[label, "description"]))
            continue
        members = statements.index[(statements.diagnostic_class == label) | (statements.diagnostic_subclass == label)]
        descriptions.append(SUPERCLASS_NAMES.get(label, "diagnostic subclass") + ": " + ", ".join(sorted(members)))
    return descriptions


def parse_scp_codes(text: str) -> dict[str, float]:
    """Parses one `scp_codes` cell (a Python dict literal such as `{'NORM': 100.0, 'SR': 0.0}`)."""
    try:
        codes = ast.literal_eval(text)
    except (ValueError, SyntaxError) as error:
        raise DataError(f"scp_codes is not a dict literal: {text!r}") from error
    if not isinstance(codes, dict):
        raise DataError(f"scp_codes is not a dict literal: {text!r}")
    return {str(code): float(value) for code, value in codes.items()}


def label_matrix(scp_codes: list[str], statements: pd.DataFrame, task: str) -> tuple[list[str], np.ndarray]:
    """Multi-hot labels of `task` for each record.

    - Parameters: `scp_codes`: one `scp_codes` cell per record.
    - Returns: the classes and a `[records][classes]` uint8 matrix; a row of zeros means the record has no label of
      this task (the benchmark leaves such records out).
    """
    mapping = task_mapping(statements, task)
    classes = task_classes(statements, task)
    column = {label: index for index, label in enumerate(classes)}
    labels = np.zeros((len(scp_codes), len(classes)), dtype=np.uint8)
    for row, text in enumerate(scp_codes):
        for code in parse_scp_codes(text):
            if code in mapping:
                labels[row, column[mapping[code]]] = 1
    return classes, labels


def read_record(path: str | Path) -> np.ndarray:
    """Reads one PTB-XL WFDB record (path without extension) with `wfdb`.

    - Returns: int16 `[leads][samples]` in µV, leads in `LEADS` order.
    - Throws: `DataError` naming the record when its leads, rate, gain, baseline or unit differ from PTB-XL's.
    """
    import wfdb  # only reading raw records needs it; prepared arrays load without

    record = wfdb.rdrecord(str(path), physical=False, return_res=16)
    names = [name.lower() for name in record.sig_name]
    if names != [lead.lower() for lead in LEADS]:
        raise DataError(f"{path}: leads {record.sig_name}, expected {list(LEADS)}")
    if record.fs != SAMPLE_RATE_HZ:
        raise DataError(f"{path}: sampled at {record.fs} Hz, expected {SAMPLE_RATE_HZ} Hz")
    if any(gain != GAIN_PER_MV for gain in record.adc_gain) or any(base != 0 for base in record.baseline):
        raise DataError(f"{path}: gain {record.adc_gain} / baseline {record.baseline}, expected 1000 per mV and 0")
    if any(unit.lower() != "mv" for unit in record.units):
        raise DataError(f"{path}: units {record.units}, expected mV")
    return np.ascontiguousarray(record.d_signal.T.astype(np.int16))


@dataclass
class PtbXl:
    """PTB-XL records in memory: signals, folds, SCP codes and the statements table.

    `signals`: int16 `[records][leads][samples]`, µV. `scp_codes`: the raw `scp_codes` cells.
    """

    signals: np.ndarray
    ecg_id: np.ndarray
    strat_fold: np.ndarray
    scp_codes: list[str]
    statements: pd.DataFrame
    statements_csv: str

    @staticmethod
    def from_physionet(root: str | Path, progress: bool = True) -> PtbXl:
        """Reads the PhysioNet layout (`ptbxl_database.csv`, `scp_statements.csv`, `records100/`) under `root`."""
        from tqdm import tqdm

        root = Path(root)
        database_path = root / "ptbxl_database.csv"
        statements_path = root / "scp_statements.csv"
        for path in (database_path, statements_path):
            if not path.is_file():
                raise DataError(f"{path} not found: expected the PhysioNet PTB-XL layout under {root}")
        database = pd.read_csv(database_path).sort_values("ecg_id")
        for column in ("ecg_id", "strat_fold", "scp_codes", "filename_lr"):
            if column not in database.columns:
                raise DataError(f"{database_path} lacks column '{column}'")
        rows = tqdm(database.filename_lr, desc="reading records", disable=not progress)
        signals = np.stack([read_record(root / name) for name in rows])
        statements_csv = statements_path.read_text()
        return PtbXl(
            signals=signals,
            ecg_id=database.ecg_id.to_numpy(np.int64),
            strat_fold=database.strat_fold.to_numpy(np.int64),
            scp_codes=list(database.scp_codes),
            statements=read_statements(statements_csv),
            statements_csv=statements_csv,
        )

    @staticmethod
    def load(path: str | Path) -> PtbXl:
        """Loads arrays written by `save` (no pickled objects)."""
        path = Path(path)
        if not path.is_file():
            raise DataError(f"{path} not found: run the `prepare` command first")
        with np.load(path, allow_pickle=False) as arrays:
            statements_csv = str(arrays["statements_csv"])
            return PtbXl(
                signals=arrays["signals"],
                ecg_id=arrays["ecg_id"],
                strat_fold=arrays["strat_fold"],
                scp_codes=json.loads(str(arrays["scp_codes"])),
                statements=read_statements(statements_csv),
                statements_csv=statements_csv,
            )

    def save(self, path: str | Path) -> None:
        """Writes every field to one uncompressed `.npz`."""
        np.savez(
            path,
            signals=self.signals,
            ecg_id=self.ecg_id,
            strat_fold=self.strat_fold,
            scp_codes=np.array(json.dumps(self.scp_codes)),
            statements_csv=np.array(self.statements_csv),
        )

    def split(self, task: str, folds: tuple[int, ...]) -> Split:
        """The records of `folds` that carry at least one label of `task`, with their labels."""
        classes, labels = label_matrix(self.scp_codes, self.statements, task)
        keep = np.isin(self.strat_fold, folds) & (labels.sum(axis=1) > 0)
        return Split(
            signals=self.signals[keep],
            labels=labels[keep],
            ecg_id=self.ecg_id[keep],
            classes=classes,
            descriptions=class_descriptions(self.statements, classes),
        )


@dataclass
class Split:
    """Records of one task and set of folds. `signals`: int16 `[records][leads][samples]`, µV."""

    signals: np.ndarray
    labels: np.ndarray
    ecg_id: np.ndarray
    classes: list[str]
    descriptions: list[str]

    def millivolts(self) -> np.ndarray:
        """Signals as float32 millivolts, the unit the model's preprocessing starts from."""
        return self.signals.astype(np.float32) / np.float32(GAIN_PER_MV)

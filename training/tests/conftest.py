"""Fixtures on the real PTB-XL records shipped beside the repository (../shared relative to the repo root)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ecgtrain.data import PtbXl, read_record, read_statements

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared"
SAMPLES = SHARED / "ecg-samples" / "ECG-classification---CNN1D-on-PTB-XL"
STATEMENTS = SHARED / "seed-model" / "scp_statements.csv"


def _require(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"{path} is absent: the tests need the real PTB-XL samples in ../shared beside the repository")
    return path


@pytest.fixture(scope="session")
def statements_csv() -> str:
    """The text of PTB-XL's scp_statements.csv (71 statements)."""
    return _require(STATEMENTS).read_text()


@pytest.fixture(scope="session")
def statements(statements_csv: str) -> pd.DataFrame:
    return read_statements(statements_csv)


@pytest.fixture(scope="session")
def sample_labels() -> pd.DataFrame:
    """labels.csv of the 11 PTB-XL records (10 from fold 10, plus 00008 from fold 9)."""
    return pd.read_csv(_require(SAMPLES) / "labels.csv").sort_values("ecg_id").reset_index(drop=True)


@pytest.fixture(scope="session")
def sample_data(sample_labels: pd.DataFrame, statements: pd.DataFrame, statements_csv: str) -> PtbXl:
    """The 11 sample records as a PtbXl, with their real folds."""
    signals = np.stack([read_record(SAMPLES / name) for name in sample_labels.record])
    return PtbXl(
        signals=signals,
        ecg_id=sample_labels.ecg_id.to_numpy(np.int64),
        strat_fold=sample_labels.strat_fold.to_numpy(np.int64),
        scp_codes=list(sample_labels.scp_codes),
        statements=statements,
        statements_csv=statements_csv,
    )


@pytest.fixture()
def training_data(sample_data: PtbXl) -> PtbXl:
    """The sample records re-assigned to folds so that a run has training and validation records: the first
    eight train (fold 1), the last three validate (fold 9). Only for exercising the training machinery."""
    folds = np.array([1] * 8 + [9] * (len(sample_data.ecg_id) - 8), dtype=np.int64)
    return PtbXl(
        sample_data.signals, sample_data.ecg_id, folds, sample_data.scp_codes, sample_data.statements,
        sample_data.statements_csv,
    )

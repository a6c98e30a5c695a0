"""Training pipeline for the IncepSE ECG classifier: PTB-XL data, model, training, thresholds, evaluation, export."""

"""Training audio encoders into a frozen CLIP space, and evaluating them.

>>> from soundedit.train import TrainConfig, TrainItem, train_audio_encoder
>>> items = [TrainItem(features, text="rain on a tin roof", image_embedding=e, group="v1"), ...]
>>> result = train_audio_encoder(TrainConfig(epochs=5), items, val_items, clip=clip)
>>> result.encoder, result.best_metrics
"""

from soundedit.train.config import DataConfig, TrainConfig
from soundedit.train.data import LAYOUTS, ItemList, TrainItem, compute_item_features, load_items
from soundedit.train.evaluate import (
    DEFAULT_TEMPLATES,
    audio_to_text_recall,
    evaluate_items,
    linear_probe,
    zero_shot_accuracy,
    zero_shot_classify,
)
from soundedit.train.loop import TrainResult, train_audio_encoder
from soundedit.train.losses import LossConfig, alignment_loss, info_nce, weak_pair_kl_sum
from soundedit.train.textaug import augment_text, synonyms

__all__ = [
    "DEFAULT_TEMPLATES",
    "LAYOUTS",
    "DataConfig",
    "ItemList",
    "LossConfig",
    "TrainConfig",
    "TrainItem",
    "TrainResult",
    "alignment_loss",
    "audio_to_text_recall",
    "augment_text",
    "compute_item_features",
    "evaluate_items",
    "info_nce",
    "linear_probe",
    "load_items",
    "synonyms",
    "train_audio_encoder",
    "weak_pair_kl_sum",
    "zero_shot_accuracy",
    "zero_shot_classify",
]

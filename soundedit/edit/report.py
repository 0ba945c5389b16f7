"""What an edit reports: the typed :class:`EditReport` and the records it is made of.

- :class:`Notices`: plain sentences for the person running the edit ("sound cut to 30 s"),
  collected while the edit is prepared and run;
- :class:`Recognition`: what a world's ``recognise`` hook makes of a sound;
- :class:`PhaseReport`: one optimisation run (the sound run, the text run) from start to end;
- :class:`SoundMatch`: did the sound run find a picture like the sound (:func:`sound_match`);
- :class:`EditReport`: all of the above for one edit; ``to_dict()`` is report.json's schema.

Every record is frozen; the report is built once, when the run ends
(:class:`~soundedit.edit.pipeline.EditRun`).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import torch

from soundedit.edit.latents import FAR_NOTICE, distance_in_reaches
from soundedit.errors import ConfigError
from soundedit.settings import EditConfig, EditRequest


class Notices:
    """Plain sentences for the person running an edit, in the order they were found."""

    def __init__(self, texts: Iterable[str] = ()) -> None:
        self._texts = list(texts)

    def add(self, text: str) -> None:
        """Say ``text`` (one plain sentence, no trailing full stop) in the edit's notices."""
        self._texts.append(text)

    def __iter__(self) -> Iterator[str]:
        return iter(self._texts)

    def __len__(self) -> int:
        return len(self._texts)

    def __repr__(self) -> str:
        return f"Notices({self._texts!r})"


@dataclass(frozen=True)
class Recognition:
    """What a world makes of a sound (the ``recognise`` hook's answer)."""

    event: str  # the closest event of the world
    score: float  # calibrated probability in [0, 1] that the world knows the sound
    threshold: float  # scores below it are "not a sound of this world"
    known: bool  # score >= threshold (never for a signal the signal check named)
    signal: dict[str, str] | None = None  # what the signal check found (silence, a tone, ...)

    def to_dict(self) -> dict[str, Any]:
        """report.json's "recognition" entry."""
        return {
            "event": self.event,
            "score": round(self.score, 4),
            "threshold": round(self.threshold, 4),
            "known": self.known,
            "signal": self.signal,
        }


@dataclass(frozen=True)
class PhaseReport:
    """One optimisation run of an edit, from its source to its last step."""

    similarity_before: float  # CLIP cosine of the source picture and the target
    similarity_after: float  # the same for the edited picture
    steps: int  # steps run (fewer than asked when stopped)
    losses: dict[str, float]  # the last step's loss terms and "total"
    layer_mask: tuple[float, ...] | None  # the adaptive layer mask at the end (None: off)
    seconds: float  # wall time of this run

    def to_dict(self) -> dict[str, Any]:
        """report.json's entry of this phase under "phases"."""
        return {
            "similarity_before": self.similarity_before,
            "similarity_after": self.similarity_after,
            "steps": self.steps,
            "losses": self.losses,
            "layer_mask": list(self.layer_mask) if self.layer_mask else None,
            "seconds": self.seconds,
        }


@dataclass(frozen=True)
class SoundMatch:
    """Did the sound run end on a picture like the sound (see :func:`sound_match`)?"""

    similarity: float  # the sound run's similarity_after
    threshold: float  # the world's known_similarity
    known: bool | None  # None: the run was shorter than the world's default, not judged

    def to_dict(self) -> dict[str, Any]:
        """report.json's "sound_match" entry."""
        return {"similarity": round(self.similarity, 4), "threshold": self.threshold,
                "known": self.known}  # fmt: skip


@dataclass(frozen=True)
class EditReport:
    """The summary of one edit, full or stopped; :meth:`to_dict` gives report.json."""

    bundle: str  # the world's name
    mode: str  # "sound", "text", "mix" or "blend"
    settings: dict[str, Any]  # the resolved EditConfig and the inputs (see report_settings)
    seed: int
    steps: int  # steps asked per run
    seconds: float  # wall time of all the runs
    steps_run: int  # steps run in all
    phases: dict[str, PhaseReport]  # "sound" and/or "text", in the order they ran
    source: dict[str, Any]  # where the start came from: seed, latent file or projected photo
    resolution: int
    device: str
    notices: tuple[str, ...]
    stopped_at: int | None  # None, or the last step of a run stopped early
    recognition: Recognition | None  # None without a sound or a recogniser
    sound_match: SoundMatch | None  # None without a sound run
    probe: dict[str, dict] | None = None  # image key -> what the world measures (None: no hook)
    mapper: dict[str, bool] | None = None  # {"instant", "warm_start"}; None: the world has none

    @property
    def main(self) -> PhaseReport | None:
        """The run the headline numbers come from: the sound run, else the text run."""
        return self.phases.get("sound") or self.phases.get("text")

    @property
    def seconds_per_step(self) -> float:
        return self.seconds / max(self.steps_run, 1)

    @property
    def probe_source(self) -> dict | None:
        return None if self.probe is None else self.probe["source"]

    @property
    def probe_edited(self) -> dict | None:
        return None if self.probe is None else self.probe.get(edited_key(self.probe))

    def to_dict(self) -> dict[str, Any]:
        """The JSON-ready report (report.json and the API's "report"), keys in their order."""
        main = self.main
        record = {
            "bundle": self.bundle,
            "generator": self.bundle,
            "mode": self.mode,
            "settings": self.settings,
            "seed": self.seed,
            "steps": self.steps,
            "seconds": self.seconds,
            "seconds_per_step": self.seconds_per_step,
            "similarity_before": main.similarity_before if main else None,
            "similarity_after": main.similarity_after if main else None,
            "losses": main.losses if main else {},
            "layer_mask": main.to_dict()["layer_mask"] if main else None,
            "phases": {phase: report.to_dict() for phase, report in self.phases.items()},
            "source": self.source,
            "resolution": self.resolution,
            "device": self.device,
            "notices": list(self.notices),
            "stopped_at": self.stopped_at,
            "recognition": self.recognition.to_dict() if self.recognition else None,
            "sound_match": self.sound_match.to_dict() if self.sound_match else None,
            "mapper": self.mapper,
        }
        if self.probe is not None:
            record.update(probe_source=self.probe_source, probe_edited=self.probe_edited)
            record["probe"] = self.probe
        return record


def report_settings(request: EditRequest, config: EditConfig) -> dict[str, Any]:
    """The report's "settings": the resolved config and the inputs that shaped the targets."""
    return {
        **dataclasses.asdict(config),
        "text": request.text,
        "gain_db": request.gain_db,
        "mix": request.mix if request.audio2 else None,
        "blend": request.blend if request.mode == "blend" else None,
    }


def edited_key(images: dict) -> str:
    """Which image (or its measure) is 'the edited one': the sound run's, else the text run's."""
    return "sound" if "sound" in images else "text"


def non_sound_message(bundle, description: str) -> str:
    """Plain words for a signal that is not a sound (silence, DC, a tone, hum, clicks, noise)."""
    known = ", ".join(bundle.known_sounds[:4]) if bundle.known_sounds else "its own sounds"
    return (
        f"This is {description}, not a sound from the world, so the edit will not match it: "
        f"try {known}…"
    )


def unknown_sound_message(bundle, recognition: Recognition, *, scores: bool = True) -> str:
    """Plain words for a sound outside the world (shown before and after a run); ``scores``
    adds the recogniser's score and threshold."""
    known = ", ".join(bundle.known_sounds) if bundle.known_sounds else "its own sounds"
    score, threshold = recognition.score, recognition.threshold
    numbers = f"score {score:.2f}, below {threshold:.2f}; " if scores else ""
    return (
        f"This world knows {known}; this sound is none of them ({numbers}closest: "
        f"{recognition.event}). The edit will still run, but expect a picture that does not "
        "match the sound."
    )


def sound_match(
    bundle, phase: PhaseReport | None, notices: Notices, recognition: Recognition | None = None
) -> SoundMatch | None:
    """Did the sound run find a picture like the sound? None when there was no sound run.

    ``known`` is None when the run was shorter than the world's default (the world's
    known_similarity is measured at that length). Any optimisation raises the similarity; a
    sound like nothing in the world still ends low, and the person is told so in a notice (the
    app shows it). A sound the bundle's recogniser does not know is never called matched (its
    notice is already given).
    """
    if phase is None:
        return None
    threshold = bundle.known_similarity
    similarity = phase.similarity_after
    if recognition is not None and not recognition.known:
        return SoundMatch(similarity, threshold, False)
    known = similarity >= threshold if phase.steps >= bundle.defaults.steps else None
    if known is False:
        notices.add(
            f"the picture matches this sound only weakly (similarity {similarity:.2f}; sounds "
            f"the {bundle.name} world draws well reach {threshold:.2f}): expect little change, "
            "the sound may be unlike anything this world knows"
        )
    return SoundMatch(similarity, threshold, known)


def check_outcome(
    G, latents: dict, phases: dict[str, PhaseReport], config: EditConfig, notices: Notices
) -> None:
    """Never report nonsense as a result: a run that reached NaN or infinity is an error; a run
    that left its latent bit-identical to the start, or took it far from the latents the
    generator ``G`` makes, says so in a notice."""
    for phase, report in phases.items():
        values = [report.similarity_before, report.similarity_after, *report.losses.values()]
        if not torch.isfinite(latents[phase]).all() or not all(map(math.isfinite, values)):
            raise ConfigError(
                f"the {phase} run diverged to NaN or infinite values with learning rate "
                f"{config.lr:g} and lambda_reg {config.lambda_reg:g}; try a smaller learning rate"
            )
        _, reaches = distance_in_reaches(latents[phase], G)
        if reaches > FAR_NOTICE:
            notices.add(
                f"the {phase} run went {reaches:.1f} times farther from this generator's average "
                "latent than its own latents go: expect an unusual picture (a smaller learning "
                "rate or a larger lambda_reg keeps it closer)"
            )
        if torch.equal(latents[phase], latents["source"]):
            notices.add(
                f"the {phase} run left the picture exactly as it started: a learning rate of "
                f"{config.lr:g} is too small to move the latent; try 0.01 or more"
            )

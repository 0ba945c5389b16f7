"""What the page says about an edit: plain words by default, the numbers under "Details".

The words come from what the run knows, never from the name of a world: the event the world's
recogniser heard in the sound (``EditRun.recognition``), the words typed, and what the world's
``measure`` hook reads off the source and the edited picture (the report's ``probe_source`` /
``probe_edited``). A world without those hooks gets plainer words.
"""

from __future__ import annotations

import html

from soundedit.edit.report import EditReport, Recognition

NOTICEABLE = 0.1  # a measured rise this large is something the picture now shows
SHORT_TEXT = 40  # characters of the typed words repeated in the status line
INSTANT_LABEL = "Instant preview"  # the picture's name (alt text); the caption says the rest
INSTANT_CAPTION = "**Instant preview** — Run refines it."
INSTANT_NEEDS_SEED = (
    "The instant preview starts from a seed: press Run to edit a latent file or a photo."
)


def goal(phase: str, *, mode: str, recognition: Recognition | None, text: str = "") -> str:
    """What a run is doing, in a few words: 'Adding rain', 'Following your words “…”'."""
    if phase == "projection":  # a photo is fitted into the generator before the edit
        return "Fitting your photo into the generator"
    if phase == "text":
        return f"Following your words “{_short(text)}”"
    event = recognition.event if recognition and recognition.known else None
    if mode == "blend":
        return "Following the sound and your words"
    return f"Adding {event}" if event else "Following the sound"


def running_text(step, *, goal: str, part: tuple[int, int] = (1, 1)) -> str:
    """'**Adding rain…** step 40 of 100' (and 'part 1 of 2' when the edit has two runs)."""
    where = f"step {step.step} of {step.total}"
    if part[1] > 1:
        where += f" (part {part[0]} of {part[1]})"
    return f"**{goal}…** {where}"


def running_details(step, *, seconds: float, shown: tuple[int, float] | None) -> str:
    """The numbers of the step in progress, each with what it means.

    ``shown`` is (step, similarity) of the latest picture on the page, None before the first.
    """
    loss = step.losses.get("total", float("nan"))
    lines = [
        f"- Step {step.step} of {step.total}, {seconds / max(step.step, 1):.2f} s per step.",
        f"- Loss {loss:.4f}: what the optimiser lowers (distance from the target plus the pull "
        "back towards the starting picture).",
    ]
    if shown is not None:
        target = "your words" if step.phase == "text" else "the sound"
        lines.append(
            f"- Similarity of the picture shown (step {shown[0]}) to {target}: {shown[1]:.3f} "
            "(CLIP cosine, −1 … 1; higher is closer)."
        )
    return "\n".join(lines)


def finish_text(report: EditReport, *, text: str = "") -> str:
    """'**Done** in 4.7 s — the picture now shows rain.' once a run is over."""
    took = f" in {report.seconds:.1f} s"
    if report.stopped_at is not None:
        return (
            f"**Stopped** at step {report.stopped_at} of {report.steps}{took} — "
            "the picture shows the edit so far."
        )
    return f"**Done**{took} — {outcome(report, text=text)}."


def outcome(report: EditReport, *, text: str = "") -> str:
    """What the finished edit did, from the recognition, the match and the world's measure."""
    mode = report.mode
    if mode == "text":
        return f"the picture now follows your words “{_short(text)}”"
    words = f", with your words “{_short(text)}”" if mode in ("mix", "blend") else ""
    return _sound_outcome(report) + words


def _sound_outcome(report: EditReport) -> str:
    """What the sound did to the picture (its own run, in the mix and blend modes too)."""
    recognition = report.recognition
    if recognition is not None and not recognition.known:
        return "this world does not know the sound, so the picture may not match it"
    if report.sound_match is not None and report.sound_match.known is False:
        return "the picture changed little: the sound is unlike what this world draws"
    rises = measured_changes(report)
    event = recognition.event if recognition is not None else None
    if event and rises.get(event, 0.0) >= NOTICEABLE:
        return f"the picture now shows {event}"
    top = max(rises.items(), key=lambda kv: kv[1], default=(None, 0.0))
    if top[1] >= NOTICEABLE:
        return f"the picture now shows more {top[0]}"
    if event:
        return f"the picture moved towards {event}"
    return "the picture now follows the sound"


def finish_details(report: EditReport) -> str:
    """Every number behind the summary, each with what it means."""
    lines = []
    for phase, values in report.phases.items():
        target = "the sound" if phase == "sound" else "your words"
        lines.append(
            f"- Similarity to {target}: {values.similarity_before:.3f} at the start → "
            f"{values.similarity_after:.3f} at the end (CLIP cosine, −1 … 1; higher is closer)."
        )
    loss = report.main.losses.get("total") if report.main else None
    if loss is not None:
        lines.append(f"- Final loss {loss:.4f} (what the optimiser lowered).")
    steps = report.stopped_at or report.steps
    lines.append(f"- {steps} steps, {report.seconds_per_step:.2f} s per step on {report.device}.")
    recognition = report.recognition
    if recognition:
        lines.append(
            f"- Heard as {recognition.event} (score {recognition.score:.2f}; the world "
            f"knows a sound from {recognition.threshold:.2f} up)."
        )
    changes = measured_changes(report)
    if changes:
        largest = sorted(changes.items(), key=lambda kv: -abs(kv[1]))[:6]
        listed = ", ".join(f"{name} {delta:+.2f}" for name, delta in largest)
        lines.append(f"- What the world measures in the picture, change from the start: {listed}.")
    return "\n".join(lines)


def measured_changes(report: EditReport) -> dict[str, float]:
    """name -> edited minus source, for what the world's measure reads off both pictures."""
    source, edited = report.probe_source, report.probe_edited
    if not isinstance(source, dict) or not isinstance(edited, dict):
        return {}
    return {k: edited[k] - source[k] for k in source if k in edited}


def progress_bar(fraction: float, *, label: str = "Edit progress") -> str:
    """An HTML progress bar (0 … 1) for a gr.HTML."""
    percent = round(100 * min(max(fraction, 0.0), 1.0))
    return (
        f'<progress class="edit-bar" max="100" value="{percent}" '
        f'aria-label="{html.escape(label)}">{percent}%</progress>'
    )


def sentence(text: str) -> str:
    """A message as one sentence on the page: a capital first, a full stop last."""
    text = " ".join((text or "").split())
    if not text:
        return ""
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


def _short(text: str) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= SHORT_TEXT else text[: SHORT_TEXT - 1] + "…"

"""The plain functions behind every event of the page.

Handlers turn widget values into a :class:`soundedit.settings.EditRequest`, run the library's
pipeline and turn what it yields into widget values. No editing logic lives here. The Run
handler takes the page's values by name (``RUN_INPUTS``: Gradio hands a set of components over
as a dict); generators yield tuples in the order of ``RUN_OUTPUTS`` / ``API_OUTPUTS`` so that
they can be tested without a browser: ``dict(zip(RUN_OUTPUTS, view))``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import gradio as gr
import torch

from demo.errors import plain_errors, plain_message
from demo.form import SETTINGS, build_request, clamp_seed, only_changes, world_settings
from demo.instant import has_mapper, instant_preview, preview_request
from demo.jobfiles import JobFiles
from demo.reproduce import write_settings
from demo.results import IMAGE_KEYS, copy_inputs, interpolation_chain, main_image_key, on_screen
from demo.session import Sessions
from demo.sound import preview_of, recognition_note, shape_sound
from demo.words import (
    INSTANT_CAPTION,
    finish_details,
    finish_text,
    goal,
    progress_bar,
    running_details,
    running_text,
    sentence,
)
from demo.worlds import WorldCatalog, about, describe
from soundedit import strict_json
from soundedit.edit.limits import check_value
from soundedit.edit.mixing import interpolate
from soundedit.edit.pipeline import render_latent, run_edit, write_result
from soundedit.edit.project import load_image
from soundedit.edit.targets import source_latent
from soundedit.settings import EditRequest

STREAM_SECONDS = 0.5  # at most this long between two status updates while editing
STOPPING = "Stopping after this step…"
NOTHING_RUNNING = "Nothing is running: press **Run** to start an edit."

RUN_INPUTS = (  # the Run handler's form fields (the components of the same name)
    "sound",
    "sound2",
    "mix",
    "gain_db",
    "world",
    "source",
    "seed",
    "latent_file",
    "photo",
    "mode",
    "text",
    "blend",
    *SETTINGS,  # the settings the page offers, as declared on EditConfig
)
RUN_OUTPUTS = (
    "watch_source",  # gr.Image: the source, beside the preview at the same size
    "live",  # gr.Image: the latest preview, then the result
    "status",  # gr.Markdown: what the edit is doing, in plain words
    "bar",  # gr.HTML: the progress bar
    "details",  # gr.Markdown under "Details": loss, similarity, what the world measured
    "results",  # gr.Column: the results section, shown once a run has a result
    "out_source",  # gr.Image ×4: the result row (only the ones the run made are visible)
    "out_sound",
    "out_text",
    "out_mixed",
    "interp",  # gr.Slider: source ↔ sound ↔ text
    "interp_image",  # gr.Image rendered from the slider
    "files",  # gr.File: downloads
    "command",  # gr.Code: the CLI command line
    "report",  # gr.JSON
    "state",  # gr.State: latents of the result, for the slider
)
WORLD_OUTPUTS = (
    "world_status",
    "world_about",  # the "About this world" fold: size, licence, source
    *SETTINGS,  # the world's own settings
)
API_OUTPUTS = ("image", "report")
INSTANT_INPUTS = RUN_INPUTS  # the instant preview reads the form Run reads
INSTANT_OUTPUTS = (
    "instant_note",  # gr.Markdown: the picture's caption, or why there is none (one sentence)
    "instant",  # gr.Image: the mapper's edit of the form, shown only when there is one
    "instant_words_note",  # the same pair beside the words (guidance panel), in the modes
    "instant_words",  # that use words
)


def session_id(request: gr.Request | None) -> str:
    """The browser session (or API client) an event belongs to."""
    return getattr(request, "session_hash", None) or "local"


class Handlers:
    """Every event handler of the page, bound to one world catalog and one session store."""

    def __init__(self, catalog: WorldCatalog, sessions: Sessions | None = None) -> None:
        self.catalog = catalog
        self.sessions = sessions or Sessions()
        self.job_files = JobFiles()  # the cache files of each session's jobs (see build_demo)

    # ---- world and source ---------------------------------------------------------------

    def bundle(self, name: str, progress: gr.Progress | None = None):
        """The loaded bundle (fetched on first use when online and not here yet).

        Raises the library's error (WeightsNotFoundError names the files and where they go).
        Once loaded, the catalog is not listed again (slider moves and runs stay cheap).
        """
        if self.catalog.is_loaded(name):
            return self.catalog.get(name)
        world = self.catalog.world(name)  # ValueError naming the known worlds
        if progress is not None:
            fetch = "" if world.ready else ", fetching its weights"
            progress(0.1, desc=f"Loading {world.title}{fetch} (once per server)…")
        return self.catalog.get(name)

    @plain_errors
    def hear(self, world: str, sound, sound2, mix, gain_db):
        """The sound as the model will hear it (int16 preview) and what the world makes of it."""
        shaped = shape_sound(sound, sound2, mix, gain_db)  # decoded once: previewed and judged
        preview = preview_of(shaped)
        if preview is None or not world or not self.catalog.world(world).ready:
            return preview, ""
        return preview, recognition_note(self.bundle(world), shaped)

    @plain_errors
    def select_world(self, name: str, progress=gr.Progress()):  # noqa: B008 (Gradio idiom)
        """World picked: its state, and the settings that suit it (WORLD_OUTPUTS order)."""
        world = self.catalog.world(name)
        try:
            bundle = self.bundle(name, progress)
        except (ValueError, OSError) as e:  # weights missing or damaged: say so in the panel
            rest = (gr.skip(),) * (len(WORLD_OUTPUTS) - 2)
            return (describe(world, error=str(e)), about(world), *rest)
        shown = world_settings(bundle)
        shown["mix_layer"] = gr.update(maximum=bundle.generator.n_latent, value=shown["mix_layer"])
        return (describe(world, loaded=True), about(world), *shown.values())

    @plain_errors
    def show_source(self, name: str, source: str, seed, truncation, latent_file, photo=None):
        """The image an edit will start from; for a photo, the square that will be projected.

        A photo is checked here (size before decoding, format) so that a bad upload is named
        at once, in our words.
        """
        if source == "photo":
            return None if not photo else _photo_preview(photo)
        if not (self.catalog.is_loaded(name) or self.catalog.world(name).ready):
            return None
        if source == "latent" and not latent_file:
            return None
        bundle = self.bundle(name)
        start = EditRequest(
            seed=clamp_seed(seed),
            start="seed" if source == "drawn" else "world",
            source_latent=latent_file if source == "latent" else None,
            overrides={"truncation": float(truncation)},
        )
        return on_screen(render_latent(bundle, source_latent(bundle, start).to(bundle.device)))

    @plain_errors
    def instant(self, form: dict[str, Any]) -> tuple:
        """The instant preview of the page's form (INSTANT_OUTPUTS order), made again on every
        slider move: a world without a mapper, or a form without its sound (or words), shows
        nothing at all; an input the preview cannot use, one sentence instead of the picture.
        """
        image, note = self._instant_picture(form)
        words = (form.get("mode") or "sound") != "sound"  # the pair beside the words, then
        beside_words = _instant_view(image, note) if words else _instant_view(None, "")
        return (*_instant_view(image, note), *beside_words)

    def _instant_picture(self, form: dict[str, Any]) -> tuple[Any, str]:
        """(picture or None, its caption or why there is none) for the instant preview."""
        name = form.get("world")
        if not name or not (self.catalog.is_loaded(name) or self.catalog.world(name).ready):
            return None, ""
        bundle = self.bundle(name)
        if not has_mapper(bundle):
            return None, ""
        try:
            request = preview_request(form)
        except ValueError as e:  # in the page's words (demo.form), as Run would say it
            return None, sentence(plain_message(e) or str(e))
        preview = instant_preview(bundle, request)  # the sound's notices: under "heard"
        if preview.image is None:
            return None, preview.note
        return preview.image, INSTANT_CAPTION

    # ---- run, stop, slider ----------------------------------------------------------------

    @plain_errors
    def run(self, form: dict[str, Any], request: gr.Request = None):
        """Run: stream previews, then the result row, slider, downloads (RUN_OUTPUTS order).

        ``form`` holds the page's values by name (RUN_INPUTS). An error is also kept for
        :meth:`after_run`, which shows it in the status line once the run is over (the pop-up
        alone fades away).
        """
        session = session_id(request)
        started_here = not self.sessions.is_running(session)  # tests call run() directly
        if started_here:
            self.sessions.begin(session)
        before = self.job_files.start(session)  # the previous job's files were delivered
        try:
            edit_request = build_request(form)
            yield from self._run_stream(edit_request, form.get("world"), session)
        except Exception as e:
            self.sessions.fail(session, plain_message(e) or "internal error (see the server log)")
            raise
        finally:
            self.job_files.end(session, before)
            if started_here:
                self.sessions.finish(session)

    def _run_stream(self, edit_request, world: str, session: str):
        bundle = self.bundle(world)
        edit_request = only_changes(edit_request, world_settings(bundle))
        hidden = gr.update(value=None, visible=False)
        yield _view(
            watch_source=None,
            live=None,
            status="Getting the picture ready…",
            bar=progress_bar(0.0),
            details="",
            results=gr.update(visible=False),
            **dict.fromkeys((f"out_{k}" for k in IMAGE_KEYS), hidden),
            interp=gr.update(value=0, interactive=False),
            interp_image=None, files=None, command="", report=None, state=None,
        )  # fmt: skip
        phases = ("sound", "text") if edit_request.mode == "mix" else (None,)
        shown, recognition = {}, None  # phase -> (step, similarity) of its latest preview
        for kind, value, seconds in self._stream(bundle, edit_request, session):
            if kind == "source":
                recognition = value.recognition
                start = on_screen(value.source_image)  # the edit starts from it, too
                yield _view(watch_source=start, live=start)
            elif kind == "step":
                part = phases.index(value.phase) + 1 if value.phase in phases else 1
                aim = goal(value.phase, mode=edit_request.mode, recognition=recognition,
                           text=edit_request.text or "")  # fmt: skip
                if value.preview_similarity is not None:
                    shown[value.phase] = (value.step, value.preview_similarity)
                done = (part - 1 + value.step / value.total) / len(phases)
                yield _view(
                    live=gr.skip() if value.preview is None else on_screen(value.preview),
                    status=running_text(value, goal=aim, part=(part, len(phases))),
                    bar=progress_bar(done),
                    details=running_details(value, seconds=seconds, shown=shown.get(value.phase)),
                )
            else:
                yield from self._finish_views(bundle, world, edit_request, value, session)

    def _stream(self, bundle, edit_request, session: str) -> Iterator[tuple[str, Any, float]]:
        """("source", the EditRun) first, with its source image rendered and its sound
        recognised; ("step", EditStep) now and then; last ("result", EditResult); each with the
        seconds since the start.

        Previews are passed on as they come; plain steps at most every STREAM_SECONDS, so that
        the page stays responsive without flooding it. A Stop pressed meanwhile stops the run
        after its current step; its result is then the stopped run's.
        """
        stop = self.sessions.stop_flag(session)  # cleared by Sessions.begin when the run was asked
        start = last_sent = time.perf_counter()
        run = run_edit(bundle, edit_request)
        source_shown = False
        for step in run:
            now = time.perf_counter()
            if not source_shown and run.source_image is not None:  # before the first edit step
                source_shown = True
                yield "source", run, now - start
            if step.preview is not None or now - last_sent > STREAM_SECONDS:
                last_sent = now
                yield "step", step, now - start
            if stop.is_set():
                run.stop()
        yield "result", run.result(), time.perf_counter() - start

    def _finish_views(self, bundle, world, edit_request, result, session) -> Iterator[tuple]:
        """The pictures at once, then the downloads (written meanwhile) and the report."""
        images = result.images
        for note in result.report.notices:
            gr.Warning(note)
        chain = interpolation_chain(result.latents)
        main = main_image_key(images)
        position = chain.index(main) if main in chain else len(chain) - 1
        state = {
            "world": world,
            "chain": chain,
            "latents": dict(result.latents),  # already on the CPU
        }
        slider = gr.update(
            minimum=0,
            maximum=max(len(chain) - 1, 1),
            value=position,
            interactive=len(chain) > 1,
            label="Interpolate: " + " ↔ ".join(f"{k} ({i})" for i, k in enumerate(chain)),
        )
        done = finish_text(result.report, text=edit_request.text or "")
        boxes = {
            f"out_{k}": gr.update(value=on_screen(images.get(k)), visible=k in images)
            for k in IMAGE_KEYS
        }
        yield _view(
            watch_source=on_screen(images["source"]),
            live=on_screen(images[main]),
            status=done + "\n\nWriting the downloads…",
            bar=progress_bar(1.0),
            details=finish_details(result.report),
            results=gr.update(visible=True),
            **boxes,
            interp=slider,
            interp_image=on_screen(images[main]),
            state=state,
        )
        files, command, report = self._downloads(bundle, world, edit_request, result, session)
        yield _view(status=done, files=files, command=command, report=report)

    def _downloads(self, bundle, world, edit_request, result, session):
        """Write PNGs, latents, animation, report and settings.json into a fresh folder."""
        run_dir = self.sessions.new_run_dir(session)
        written = write_result(result, run_dir, animation=True)
        inputs = copy_inputs(edit_request, run_dir)
        record = write_settings(
            run_dir / "settings.json", bundle, edit_request, world, inputs,
            settings=result.report.settings,
        )  # fmt: skip
        report = {**result.report.to_dict(), **{k: record[k] for k in ("request", "command")}}
        report = strict_json.finite(report)  # the JSON view and the API get strict JSON too
        files = [str(p) for p in written.values()] + [str(run_dir / "settings.json")]
        files += [str(run_dir / name) for name in inputs.values()]
        return files, record["command"], report

    def stop(self, request: gr.Request = None) -> str:
        """Stop: the running edit of this session ends after its current step."""
        session = session_id(request)
        if not self.sessions.is_running(session):
            return NOTHING_RUNNING
        self.sessions.request_stop(session)
        return STOPPING

    def start_run(self, request: gr.Request = None):
        """Run was clicked: grey the button out and count the session as running."""
        self.sessions.begin(session_id(request))
        return gr.update(value="Running…", interactive=False)

    def after_run(self, status: str | None, request: gr.Request = None):
        """The run is over, however it ended: Run is usable again and the status tells why.

        Wired to both ``.then`` and ``.failure`` of the run (Gradio 6's page runs ``.then`` only
        after a success), so the page never stays "Running…"; a Stop that came too late no
        longer leaves "Stopping after this step…".
        """
        error = self.sessions.finish(session_id(request))
        button = gr.update(value="▶ Run", interactive=True)
        if error:
            return button, f"**Error:** {error}\n\nFix it and press **Run** again."
        if (status or "").startswith(STOPPING):
            return button, "Stopped."
        return button, gr.skip()

    @plain_errors
    def interpolate(self, state: dict | None, position: float):
        """The slider moved: render the latent between two neighbours of the chain."""
        if not state or len(state.get("chain", ())) < 2:
            return gr.skip()
        chain, latents = state["chain"], state["latents"]
        position = min(max(float(position), 0.0), len(chain) - 1.0)
        i = min(int(position), len(chain) - 2)
        bundle = self.bundle(state["world"])
        w_plus = interpolate(latents[chain[i]], latents[chain[i + 1]], position - i)
        return on_screen(render_latent(bundle, w_plus.to(bundle.device)))

    def end_session(self, request: gr.Request = None) -> None:
        """The page was closed: forget its stop flag, delete its files."""
        self.sessions.end(session_id(request))
        self.job_files.sweep(session_id(request), grace=0.0)

    # ---- the /edit API --------------------------------------------------------------------

    @plain_errors
    def api_edit(
        self,
        sound,
        world: str = "",
        seed: int = 0,
        steps: int = 0,
        text: str = "",
        mode: str = "sound",
        request: gr.Request = None,
    ):
        """API /edit: stream (preview, progress JSON); last (final image, report JSON).

        Only the sound is needed: an empty world is the default one, steps 0 the world's own,
        text only matters for the text, mix and blend modes. About ten previews are streamed
        whatever the number of steps, and every streamed item holds one.
        """
        session = session_id(request)
        self.sessions.begin(session)
        before = self.job_files.start(session)  # the previous job's files were delivered
        try:
            yield from self._api_stream(sound, world, seed, steps, text, mode, session)
        finally:
            self.job_files.end(session, before)
            self.sessions.finish(session)

    def _api_stream(self, sound, world, seed, steps, text, mode, session: str):
        world = world or self.catalog.default
        bundle = self.bundle(world)
        steps = check_value("steps", steps) if steps else None  # 0: the world's own
        shown = world_settings(bundle)
        edit_request = build_request(
            {"sound": sound, "mode": mode or "sound", "text": text, "seed": seed or 0,
             "steps": steps, "preview_every": max(1, (steps or shown["steps"]) // 10)}
        )  # fmt: skip
        for kind, value, seconds in self._stream(bundle, edit_request, session):
            if kind == "step" and value.preview is not None:
                info = {
                    "phase": value.phase,
                    "step": value.step,
                    "total": value.total,
                    "loss": value.losses.get("total"),
                    "similarity": value.preview_similarity,  # of the preview itself
                    "seconds": round(seconds, 3),
                }
                yield value.preview, info
            elif kind == "result":
                _, _, report = self._downloads(bundle, world, edit_request, value, session)
                report["stopped"] = value.report.stopped_at is not None
                yield value.images[main_image_key(value.images)], report


def _view(**values) -> tuple:
    """One update of the Run outputs (RUN_OUTPUTS order): the named ones, the rest unchanged."""
    unknown = set(values) - set(RUN_OUTPUTS)
    if unknown:
        raise KeyError(f"not a Run output: {sorted(unknown)}")
    return tuple(values.get(name, gr.skip()) for name in RUN_OUTPUTS)


def _instant_view(image, note: str) -> tuple:
    """One instant preview's caption and picture: each shown only when it has something."""
    return (
        gr.update(value=note, visible=bool(note)),
        gr.update(value=image, visible=image is not None),
    )


def _photo_preview(photo, size: int = 256):
    """The centred square of a photo as uint8 [size, size, 3] (ConfigError when unreadable)."""

    image = load_image(photo, size)  # [1, 3, size, size] in [-1, 1]
    array = ((image[0].permute(1, 2, 0) + 1.0) * 127.5).round().clamp(0, 255)  # [H, W, 3]
    return array.to(torch.uint8).numpy()

"""Each setting is declared once, on its EditConfig field; every surface is made from it.

Adding a setting is one edit (the field): the test below adds one to a subclass and finds it
checked, resolved, on the command line and on the page.
"""

from __future__ import annotations

import argparse
import dataclasses

import gradio as gr
import pytest

from demo.form import SETTINGS, build_request, only_changes, world_settings
from demo.handlers import RUN_INPUTS, WORLD_OUTPUTS
from demo.page.common import setting_widgets
from soundedit.edit.commands import CHOICES, OVERRIDE_FLAGS, add_setting_flags
from soundedit.edit.limits import LIMITS
from soundedit.errors import ConfigError
from soundedit.settings import EditConfig, EditRequest, Page, number, resolve, settings_of


@dataclasses.dataclass(frozen=True)
class WarmConfig(EditConfig):
    """EditConfig with one more setting, declared the only way a setting is declared."""

    warmth: float = number(
        0.0, 2.0, 0.5, "how warm the picture turns", page=Page("Warmth", slider=(0, 2, 0.1))
    )


def test_a_new_field_is_checked_resolved_on_the_command_line_and_on_the_page(tiny_bundle):
    with pytest.raises(ConfigError, match=r"warmth must be a number in \[0, 2\], got 3"):
        WarmConfig(warmth=3)
    bundle = dataclasses.replace(
        tiny_bundle, defaults=WarmConfig(**dataclasses.asdict(tiny_bundle.defaults))
    )
    assert resolve(bundle, EditRequest()).warmth == 0.5
    assert resolve(bundle, EditRequest(overrides={"warmth": 1.5})).warmth == 1.5
    parser = argparse.ArgumentParser()
    add_setting_flags(parser, WarmConfig)
    assert parser.parse_args(["--warmth", "1.5"]).warmth == 1.5
    assert "how warm the picture turns" in parser.format_help()
    with pytest.raises(SystemExit):
        parser.parse_args(["--warmth", "5"])
    with gr.Blocks():
        ui: dict = {}
        setting_widgets(ui, "optimisation", WarmConfig)
    assert isinstance(ui["warmth"], gr.Slider) and ui["warmth"].value == 0.5
    assert ui["warmth"].label == "Warmth" and ui["warmth"].maximum == 2


def test_every_table_is_made_from_the_declarations():
    declared = settings_of()
    assert set(OVERRIDE_FLAGS) == {name for name, s in declared.items() if s.flag}
    assert CHOICES["guidance"] == ("cosine", "hinge") and CHOICES["space"] == ("w+", "z")
    assert all(LIMITS[name] is s.limit for name, s in declared.items() if s.limit)
    assert SETTINGS == tuple(name for name, s in declared.items() if s.page)
    assert WORLD_OUTPUTS[2:] == SETTINGS and set(SETTINGS) <= set(RUN_INPUTS)


def test_the_mix_layer_has_one_limit_everywhere():
    """The command line and the library accept the same mix layers (once 32 and 10 000)."""
    with pytest.raises(ConfigError, match=r"mix_layer must be a whole number in \[0, 32\], got 33"):
        EditConfig(mix_layer=33)
    assert LIMITS["mix_layer"].high == 32


def test_the_page_sends_only_what_the_visitor_changed(tiny_bundle):
    shown = world_settings(tiny_bundle)
    assert shown["mix_layer"] == tiny_bundle.generator.n_latent // 2  # resolve worked it out
    form = {**shown, "sound": "a.wav", "lr": shown["lr"] * 2}
    request = only_changes(build_request(form), shown)
    assert request.given() == {"lr": shown["lr"] * 2}


def test_every_field_but_the_seed_is_a_declared_setting():
    """A field without its declaration would be refused as an override and offered nowhere."""
    plain = [f.name for f in dataclasses.fields(EditConfig) if "setting" not in f.metadata]
    assert plain == ["seed"], "declare EditConfig fields with setting() or number()"

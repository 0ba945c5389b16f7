"""The embedded SoundScapes world: scenes, sounds, captions, its trainers, probe and bundle.

Importing this package (``import soundedit`` does) registers the world with
:func:`soundedit.bundle.register_bundle` under the name ``"soundscapes"``; its models load only
when the bundle is asked for.
"""

from soundedit.bundle import register_bundle


def _load(device: str):
    from soundedit.soundscapes.bundle import load_soundscapes_bundle

    return load_soundscapes_bundle(device)


def _check() -> tuple[bool, str]:
    from soundedit.soundscapes.bundle import weights_status

    return weights_status()


register_bundle(
    "soundscapes",
    _load,
    title="SoundScapes (embedded, offline)",
    domain="soundscapes",
    check=_check,
)

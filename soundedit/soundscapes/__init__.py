"""The embedded SoundScapes world: scenes, sounds, captions, its trainers, probe and bundle.

Importing this package (``import soundedit`` does) registers the world with
:func:`soundedit.bundle.register_bundle` under the name ``"soundscapes"``; its models load only
when the bundle is asked for.
"""

from soundedit.bundle import register_bundle
from soundedit.soundscapes.bundle import NAME, TITLE, load_soundscapes_bundle, weights_status

register_bundle(
    NAME, load_soundscapes_bundle, title=TITLE, domain="soundscapes", check=weights_status
)

"""The hostile-input corpus: every bad (or merely odd) thing a person can hand to an edit.

Each :class:`Case` writes its files into a folder and says how to ask for the edit on each
surface: ``request`` (EditRequest fields for the library), ``cli`` (arguments after
``soundedit``) and ``api`` (the /edit endpoint's inputs, for a representative share). ``expect``
holds regexes that must all appear in the message: what was wrong *and* what is accepted. A case
with ``expect=()`` is odd but valid: it must run and give finite, non-degenerate results.

Everything is generated here with numpy, soundfile, PIL and torch: nothing is downloaded.
"""

from __future__ import annotations

import pickle
import struct
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import soundfile as sf
import torch
from PIL import Image

RATE = 16_000
FORMATS = r"WAV \(8/16/24/32-bit.*FLAC"
LATENT_ACCEPTED = r"a W or W\+ tensor saved with torch.save, numpy.save or safetensors"
PHOTO_ACCEPTED = r"PNG, JPEG, WebP, BMP, GIF or TIFF"


@dataclass(frozen=True)
class Case:
    """One hostile input and how each surface is asked to edit with it."""

    id: str  # pytest id: kind-what
    kind: str  # sound, setting, latent, checkpoint, photo, text
    make: Callable[[Path], dict]  # writes files into the folder; returns the surface arguments
    expect: tuple[str, ...]  # regexes the message must hold; () = valid, must edit cleanly
    api: bool = False  # also sent to the running app through gradio_client
    surfaces: tuple[str, ...] = ("library", "cli")  # where the case applies
    tags: dict = field(default_factory=dict)


def noise(seconds: float = 0.5, rate: int = RATE, channels: int = 1, level: float = 0.3):
    rng = np.random.default_rng(0)
    x = level * rng.standard_normal((int(seconds * rate), channels))
    return x.astype(np.float32) if channels > 1 else x[:, 0].astype(np.float32)


def sound_case(case_id: str, write, expect: tuple[str, ...], *, api=False, name="s.wav") -> Case:
    """A case where ``write(path)`` makes the sound file ``name``."""

    def make(folder: Path) -> dict:
        path = folder / name
        write(path)
        return {
            "request": {"audio": str(path)},
            "cli": ["--audio", str(path)],
            "api": {"sound": str(path)},
        }

    return Case(f"sound-{case_id}", "sound", make, expect, api=api)


def _wav(samples, rate=RATE, subtype="PCM_16"):
    """Write a WAV whatever the file's extension (the corpus misnames some on purpose)."""
    return lambda p: sf.write(str(p), samples, rate, subtype=subtype, format="WAV")


def _bytes(data: bytes):
    return lambda p: p.write_bytes(data)


def _float_wav_with(values):
    x = noise(0.25)
    x[:: max(1, len(x) // 4)] = values
    return _wav(x, subtype="FLOAT")


def _truncated_wav(p: Path) -> None:
    sf.write(str(p), noise(0.5), RATE, subtype="PCM_16")
    p.write_bytes(p.read_bytes()[:30])


def _header_only_wav(p: Path) -> None:
    sf.write(str(p), np.zeros(0, dtype=np.float32), RATE, subtype="PCM_16")


def _ten_hours_declared(p: Path) -> None:
    """A WAV whose header promises 10 h of 16-bit mono but that holds 0.5 s."""
    sf.write(str(p), noise(0.5), RATE, subtype="PCM_16")
    data = bytearray(p.read_bytes())
    declared = 10 * 3600 * RATE * 2
    at = data.find(b"data")
    data[at + 4 : at + 8] = struct.pack("<I", declared)
    data[4:8] = struct.pack("<I", declared + at)
    p.write_bytes(bytes(data))


def _aiff_nan(p: Path) -> None:
    x = noise(0.25)
    x[100] = np.nan
    sf.write(str(p), x, RATE, format="AIFF", subtype="FLOAT")


def _sparse(size: int):
    def write(p: Path) -> None:
        with p.open("wb") as f:
            f.truncate(size)

    return write


def _png_bytes() -> bytes:
    import io

    buf = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 10, 10)).save(buf, format="PNG")
    return buf.getvalue()


def sound_cases() -> list[Case]:
    tone = noise(0.5)
    refused = [
        ("empty", _bytes(b""), (r"empty \(0 bytes\)", FORMATS), True),
        (
            "text-file",
            _bytes(b"this is not a sound\n" * 20),
            ("could not be decoded", FORMATS),
            True,
        ),
        (
            "random-bytes",
            _bytes(np.random.default_rng(1).bytes(4096)),
            ("could not be decoded", FORMATS),
            True,
        ),
        ("png-as-wav", _bytes(_png_bytes()), ("could not be decoded", FORMATS), True),
        ("truncated-header", _truncated_wav, ("could not be decoded", FORMATS), True),
        ("header-only", _header_only_wav, ("contains no samples", r"at least 0.01 s"), True),
        (
            "one-sample",
            _wav(np.array([0.5], dtype=np.float32)),
            (r"1 sample", r"at least 0.01 s"),
            True,
        ),
        ("nan", _float_wav_with(np.nan), ("NaN or infinite", "only finite samples"), True),
        ("inf", _float_wav_with(np.inf), ("NaN or infinite", "only finite samples"), False),
        ("minus-inf", _float_wav_with(-np.inf), ("NaN or infinite", "only finite samples"), True),
        (
            "float64-beyond-float32",
            _wav(noise(0.25).astype(np.float64) * 1e300, subtype="DOUBLE"),
            ("NaN or infinite", "within float32's range"),
            False,
        ),
        (
            "rate-1hz",
            _wav(noise(0.5, rate=RATE), rate=1),
            (r"sample rate of 1 Hz", r"1000-384000 Hz"),
            True,
        ),
        ("rate-500hz", _wav(noise(0.5, rate=500), rate=500), (r"500 Hz", r"1000-384000 Hz"), False),
        (
            "rate-400khz",
            _wav(noise(0.05, rate=400_000), rate=400_000),
            (r"400000 Hz", r"1000-384000 Hz"),
            True,
        ),
        (
            "33-channels",
            _wav(noise(0.05, channels=33), subtype="FLOAT"),
            ("33 channels", "up to 32"),
            True,
        ),
        ("over-50mb", _sparse(50_000_001), (r"50\.0 MB", r"up to 50 MB"), False),
        ("ogg-garbage", _bytes(b"OggS" + bytes(200)), ("could not be decoded", FORMATS), False),
        ("flac-garbage", _bytes(b"fLaC" + bytes(200)), ("could not be decoded", FORMATS), False),
        (
            "riff-no-wave",
            _bytes(b"RIFF\x24\x00\x00\x00JUNK" + bytes(64)),
            ("could not be decoded", FORMATS),
            False,
        ),
        (
            "id3-garbage",
            _bytes(b"ID3\x04\x00\x00\x00\x00\x00\x10" + bytes(300)),
            ("could not be decoded", FORMATS),
            False,
        ),
        ("aiff-nan", _aiff_nan, ("NaN or infinite", "only finite samples"), False),
        ("rate-999hz", _wav(noise(0.5, rate=999), rate=999), (r"999 Hz", r"1000-384000 Hz"), False),
        ("one-millisecond", _wav(noise(0.001)), (r"16 sample\(s\)", r"at least 0.01 s"), False),
    ]
    # the text file keeps its own name: a wrong extension must not change the answer
    names = {"text-file": "notes.txt", "png-as-wav": "picture.wav", "wav-named-mp3": "s.mp3"}
    cases = [sound_case(i, w, e, api=a, name=names.get(i, "s.wav")) for i, w, e, a in refused]
    cases += [
        sound_case("path-directory", lambda p: p.mkdir(), ("is a directory", FORMATS)),
        sound_case("path-missing", lambda p: None, ("no such sound file", "existing file path")),
    ]
    valid = [
        ("huge-finite-float", _wav(tone * 1e30, subtype="FLOAT")),
        ("peaks-above-1", _wav(tone * 8.0, subtype="FLOAT")),
        ("silent", _wav(np.zeros(RATE // 2, dtype=np.float32))),
        ("stereo", _wav(noise(0.5, channels=2))),
        ("8-channels", _wav(noise(0.5, channels=8), subtype="FLOAT")),
        ("8-bit-unsigned", _wav(tone, subtype="PCM_U8")),
        ("24-bit", _wav(tone, subtype="PCM_24")),
        ("ten-hours-declared", _ten_hours_declared),
        ("rate-1000hz", _wav(noise(0.5, rate=1000), rate=1000)),
        ("flac-as-wav-name", lambda p: sf.write(str(p), tone, RATE, format="FLAC")),
        ("wav-named-mp3", _wav(tone)),
    ]
    cases += [
        sound_case(i, w, (), api=i == "huge-finite-float", name=names.get(i, "s.wav"))
        for i, w in valid
    ]
    return cases


# ---- settings: every number, out of range in every way ----------------------------------------

SETTINGS = {  # option: (EditRequest field, CLI option, accepted-range regex, bad values)
    "steps": (
        "--steps",
        r"whole number in \[1, 5000\]",
        ["0", "-5", "5001", "1e9", "2.5", "5000.5", "nan", "abc"],
    ),
    "lr": (
        "--lr",
        r"number in \(0, 10\]",
        ["0", "-0.1", "10.5", "1e300", "nan", "inf", "-inf", "abc"],
    ),
    "lambda_reg": (
        "--lambda-reg",
        r"number in \[0, 10000\]",
        ["-1", "1e5", "1e400", "nan", "-inf", "inf", "x"],
    ),
    "lambda_id": (
        "--lambda-id",
        r"number in \[0, 10000\]",
        ["-0.5", "20000", "nan", "inf", "-inf", "one"],
    ),
    "truncation": (
        "--truncation",
        r"number in \[0, 1\]",
        ["-0.1", "1.0001", "7", "nan", "inf", "-inf", "half"],
    ),
    "seed": (
        "--seed",
        r"whole number in \[0, 4294967295\]",
        ["-1", "4294967296", "1180591620717411303424", "1.5", "nan", "inf", "seed"],
    ),
    "gain_db": (
        "--gain-db",
        r"number in \[-120, 40\]",
        ["1000", "-1000", "40.5", "nan", "inf", "-inf", "loud"],
    ),
    "mix": ("--mix", r"number in \[0, 1\]", ["-0.5", "1.5", "nan", "inf", "-inf", "most"]),
    "blend": ("--blend", r"number in \[0, 1\]", ["-0.01", "2", "nan", "inf", "some"]),
    "mix_layer": (
        "--mix-layer",
        r"whole number in \[0, 32\]",
        ["-1", "33", "2.5", "nan", "inf", "k"],
    ),
}
API_SETTINGS = {
    ("seed", "-1"),
    ("seed", "1180591620717411303424"),
    ("steps", "-5"),
    ("steps", "5001"),
}


def _as_value(text: str):
    """The value a Python caller would pass for the CLI text (numbers as numbers)."""
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text


def setting_cases() -> list[Case]:
    cases = []
    for key, (option, accepted, values) in SETTINGS.items():
        for text in values:

            def make(folder: Path, key=key, option=option, text=text) -> dict:
                sound = folder / "ok.wav"
                sf.write(str(sound), noise(0.5), RATE)
                extra = {"audio2": str(sound)} if key == "mix" else {}
                cli_extra = ["--audio2", str(sound)] if key == "mix" else []
                return {
                    "request": {"audio": str(sound), key: _as_value(text), **extra},
                    "cli": ["--audio", str(sound), *cli_extra, f"{option}={text}"],
                    "api": {"sound": str(sound), key: _as_value(text)},
                }

            # the CLI names the option; the library names the field
            expect = (rf"(argument {option}:|{key})", accepted)
            api = (key, text) in API_SETTINGS
            cases.append(Case(f"setting-{key}={text}", "setting", make, expect, api=api))
    cases.append(
        Case(
            "setting-mix_layer-beyond-generator",
            "setting",
            lambda folder: _mode_args(folder, "mix", "rain", ["--mix-layer", "9"], mix_layer=9),
            (r"mix layer must be in \[0, 6\]", "for this generator"),
        )
    )
    return cases


def _mode_args(folder: Path, mode: str, text: str | None, cli_extra=(), sound=True, **request):
    path = folder / "ok.wav"
    sf.write(str(path), noise(0.5), RATE)
    req = {"mode": mode, "text": text, "audio": str(path) if sound else None, **request}
    cli = ["--mode", mode, *(["--text", text] if text is not None else [])]
    cli += ["--audio", str(path)] if sound else []
    return {
        "request": req,
        "cli": [*cli, *cli_extra],
        "api": {"sound": req["audio"], "mode": mode, "text": text or ""},
    }


def text_cases() -> list[Case]:
    return [
        Case(
            "text-mode-without-words",
            "text",
            lambda f: _mode_args(f, "text", None, sound=False),
            (r"'text' (mode )?needs (words|a text prompt)",),
            api=True,
        ),
        Case(
            "text-whitespace-only",
            "text",
            lambda f: _mode_args(f, "blend", "   \t "),
            (r"'blend' (mode )?needs (words|a text prompt)",),
        ),
        Case(
            "text-mix-without-sound",
            "text",
            lambda f: _mode_args(f, "mix", "rain", sound=False),
            (r"('mix' needs a sound|Give a sound first)",),
            api=True,
        ),
        Case(
            "text-sound-mode-without-sound",
            "text",
            lambda f: _mode_args(f, "sound", None, sound=False),
            (r"('sound' needs a sound|Give a sound first)",),
            api=True,
        ),
        Case("text-10k-characters", "text", lambda f: _mode_args(f, "text", "rain " * 2000), ()),
    ]


# ---- latents ----------------------------------------------------------------------------------

STYLE_DIM, N_LATENT = 16, 6  # the tiny generator of tests/demo/conftest.py


class _RunsCode:
    """A pickle that would call ``touch`` on load; the loader must refuse it unrun."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def latent_case(case_id: str, suffix: str, write, expect: tuple[str, ...]) -> Case:
    def make(folder: Path) -> dict:
        path = folder / f"w{suffix}"
        write(path)
        sound = folder / "ok.wav"
        sf.write(str(sound), noise(0.5), RATE)
        return {
            "request": {"audio": str(sound), "source_latent": str(path)},
            "cli": ["--audio", str(sound), "--source-latent", str(path)],
            "marker": folder / "pwned",
        }

    return Case(f"latent-{case_id}", "latent", make, expect)


def _torch_save(value):
    return lambda p: torch.save(value, p)


def _npy(value):
    return lambda p: np.save(p, value, allow_pickle=True)


def _evil_pt(p: Path) -> None:
    torch.save({"w": _RunsCode(p.parent / "pwned")}, p)


def _evil_npy(p: Path) -> None:
    np.save(p, np.array([_RunsCode(p.parent / "pwned")], dtype=object), allow_pickle=True)


def _safetensors(tensors):
    def write(p: Path) -> None:
        from safetensors.torch import save_file

        save_file(tensors, str(p))

    return write


def _truncated_pt(p: Path) -> None:
    torch.save(torch.zeros(N_LATENT, STYLE_DIM), p)
    p.write_bytes(p.read_bytes()[:200])


def latent_cases() -> list[Case]:
    shape = r"does not fit this generator; accepted: \[16\], \[1, 16\], \[6, 16\]"
    nan = torch.zeros(N_LATENT, STYLE_DIM)
    nan[0, 0] = float("nan")
    inf = torch.zeros(STYLE_DIM)
    inf[3] = float("inf")
    specs = [
        ("empty-pt", ".pt", _bytes(b""), (r"empty \(0 bytes\)", LATENT_ACCEPTED)),
        ("empty-npy", ".npy", _bytes(b""), (r"empty \(0 bytes\)", LATENT_ACCEPTED)),
        ("empty-safetensors", ".safetensors", _bytes(b""), (r"empty \(0 bytes\)", LATENT_ACCEPTED)),
        ("wrong-shape", ".pt", _torch_save(torch.zeros(3, 7)), (r"shape \[3, 7\]", shape)),
        (
            "wrong-style-dim",
            ".npy",
            _npy(np.zeros((N_LATENT, 512), np.float32)),
            (r"\[6, 512\]", shape),
        ),
        (
            "too-many-layers",
            ".pt",
            _torch_save(torch.zeros(1, 18, STYLE_DIM)),
            (r"\[1, 18, 16\]", shape),
        ),
        ("scalar", ".pt", _torch_save(torch.tensor(1.0)), (r"shape \[\]", shape)),
        ("nan", ".pt", _torch_save(nan), ("NaN or infinite",)),
        ("inf", ".safetensors", _safetensors({"w": inf}), ("NaN or infinite",)),
        (
            "pickle-with-code-pt",
            ".pt",
            _evil_pt,
            ("Python objects besides tensors", "refused", LATENT_ACCEPTED),
        ),
        (
            "pickle-with-code-npy",
            ".npy",
            _evil_npy,
            ("could not be read", "allow_pickle", LATENT_ACCEPTED),
        ),
        ("strings-npy", ".npy", _npy(np.array(["a", "b"])), ("a latent holds real numbers", "<U1")),
        (
            "complex-npy",
            ".npy",
            _npy(np.zeros(STYLE_DIM, np.complex64)),
            ("a latent holds real numbers", "complex"),
        ),
        (
            "bool-tensor",
            ".pt",
            _torch_save(torch.zeros(STYLE_DIM, dtype=torch.bool)),
            ("real numbers", "bool"),
        ),
        (
            "garbage-pt",
            ".pt",
            _bytes(b"\x00garbage" * 50),
            ("could not be read as a .pt latent", LATENT_ACCEPTED),
        ),
        (
            "truncated-pt",
            ".pt",
            _truncated_pt,
            ("could not be read as a .pt latent", LATENT_ACCEPTED),
        ),
        (
            "garbage-safetensors",
            ".safetensors",
            _bytes(b"\xff" * 64),
            ("could not be read", LATENT_ACCEPTED),
        ),
        (
            "dict-without-latent",
            ".pt",
            _torch_save({"a": torch.zeros(2), "b": torch.zeros(3)}),
            ("expected one tensor or a dict with one of w_plus",),
        ),
        ("list-not-tensor", ".pt", _torch_save([1, 2, 3]), ("expected one tensor",)),
        (
            "wrong-suffix",
            ".txt",
            _bytes(b"0.1 0.2"),
            (r"must end in one of \.pt, \.pth, \.npy, \.safetensors",),
        ),
        ("over-16mb", ".pt", _sparse(16_000_001), (r"latent files are at most 16 MB",)),
        ("directory", ".pt", lambda p: p.mkdir(), ("is a directory", LATENT_ACCEPTED)),
        ("missing", ".pt", lambda p: None, ("does not exist", "existing file")),
        (
            "batch-of-two",
            ".pt",
            _torch_save(torch.zeros(2, N_LATENT, STYLE_DIM)),
            (r"\[2, 6, 16\]", shape),
        ),
        (
            "int-npy",
            ".npy",
            _npy(np.ones(STYLE_DIM, np.int32)),
            (r"a latent holds real numbers \(floating point\)", "int32"),
        ),
    ]
    return [latent_case(*spec) for spec in specs]


# ---- checkpoints (inspect on the CLI, load_generator in the library) ---------------------------

CKPT_ACCEPTED = r"(rosinality \.pt|accepted:)"


def _evil_pkl(p: Path) -> None:
    p.write_bytes(pickle.dumps({"G_ema": _RunsCode(p.parent / "pwned")}))


def _zip_garbage(p: Path) -> None:
    with zipfile.ZipFile(p, "w") as z:
        z.writestr("archive/data.pkl", b"not a pickle")


def checkpoint_case(case_id: str, name: str, write, expect: tuple[str, ...]) -> Case:
    def make(folder: Path) -> dict:
        path = folder / name
        write(path)
        return {"checkpoint": str(path), "marker": folder / "pwned"}

    return Case(f"checkpoint-{case_id}", "checkpoint", make, expect)


def checkpoint_cases() -> list[Case]:
    specs = [
        ("empty-pt", "g.pt", _bytes(b""), ("g.pt", CKPT_ACCEPTED)),
        ("empty-pkl", "g.pkl", _bytes(b""), ("g.pkl", CKPT_ACCEPTED)),
        ("pickle-with-code", "g.pkl", _evil_pkl, ("refused|not allowed|unsafe", CKPT_ACCEPTED)),
        (
            "pickle-of-a-list",
            "g.pkl",
            _bytes(pickle.dumps([1, 2, 3])),
            ("not a StyleGAN2 layout", CKPT_ACCEPTED),
        ),
        (
            "random-bytes",
            "g.pt",
            _bytes(np.random.default_rng(2).bytes(2048)),
            ("g.pt", CKPT_ACCEPTED),
        ),
        ("zip-not-torch", "g.pt", _zip_garbage, ("g.pt", CKPT_ACCEPTED)),
        (
            "torch-dict-wrong-keys",
            "g.pt",
            _torch_save({"hello": torch.zeros(2)}),
            ("g.pt", CKPT_ACCEPTED),
        ),
        ("directory", "g.pt", lambda p: p.mkdir(), ("is a directory", "give a checkpoint file")),
        ("missing", "g.pt", lambda p: None, ("does not exist",)),
    ]
    return [checkpoint_case(*spec) for spec in specs]


# ---- photos ------------------------------------------------------------------------------------


def photo_case(case_id: str, name: str, write, expect: tuple[str, ...]) -> Case:
    def make(folder: Path) -> dict:
        path = folder / name
        write(path)
        sound = folder / "ok.wav"
        sf.write(str(sound), noise(0.5), RATE)
        return {
            "request": {"audio": str(sound), "source_image": str(path)},
            "cli": ["--audio", str(sound), "--source-image", str(path)],
            "photo": str(path),
        }

    return Case(f"photo-{case_id}", "photo", make, expect)


def _image(mode: str, size, fmt: str = "PNG", value=128):
    return lambda p: Image.new(mode, size, value).save(p, format=fmt)


def _truncated_png(p: Path) -> None:
    noise_image = np.random.default_rng(3).integers(0, 255, (64, 64, 3), dtype=np.uint8)
    Image.fromarray(noise_image).save(p, format="PNG")
    p.write_bytes(p.read_bytes()[:300])


def _sixteen_bit(p: Path) -> None:
    ramp = np.linspace(0, 65535, 64 * 64).reshape(64, 64).astype(np.uint16)
    Image.fromarray(ramp).save(p, format="PNG")


def photo_cases() -> list[Case]:
    rule = r"photos up to 50 megapixels and 20000 pixels on a side are accepted"
    refused = [
        (
            "bomb-12000",
            "bomb.png",
            _image("L", (12000, 12000), value=0),
            (r"12000 x 12000 pixels", rule),
        ),
        ("bomb-wide", "wide.png", _image("1", (25000, 16), value=0), (r"25000 x 16 pixels", rule)),
        ("one-pixel", "dot.png", _image("RGB", (1, 1)), (r"1 x 1 pixels", r"at least 16 pixels")),
        ("truncated", "cut.png", _truncated_png, ("not an image that can be read", PHOTO_ACCEPTED)),
        ("text-file", "photo.png", _bytes(b"not a photo\n" * 10), ("not an image", PHOTO_ACCEPTED)),
        ("empty", "photo.jpg", _bytes(b""), (r"empty \(0 bytes\)", PHOTO_ACCEPTED)),
        ("wav-as-photo", "photo.png", _wav(noise(0.1)), ("not an image", PHOTO_ACCEPTED)),
        (
            "jpeg-garbage",
            "photo.jpg",
            _bytes(b"\xff\xd8\xff\xe0" + bytes(100)),
            ("not an image", PHOTO_ACCEPTED),
        ),
        (
            "too-thin",
            "thin.png",
            _image("RGB", (200, 15)),
            (r"200 x 15 pixels", r"at least 16 pixels"),
        ),
        ("directory", "photos", lambda p: p.mkdir(), ("is a directory", PHOTO_ACCEPTED)),
        ("missing", "nope.png", lambda p: None, ("does not exist", "existing image file")),
    ]
    return [photo_case(*spec) for spec in refused]


ODD_PHOTOS = {  # valid photos in unusual modes: (writer, name)
    "cmyk-jpeg": (_image("CMYK", (40, 30), "JPEG", (0, 255, 0, 0)), "cmyk.jpg"),
    "16-bit-png": (_sixteen_bit, "deep.png"),
    "rgba-png": (_image("RGBA", (20, 40), value=(255, 0, 0, 0)), "alpha.png"),
    "palette-gif": (_image("P", (32, 32), "GIF", 3), "pal.gif"),
    "grey-tiff": (_image("L", (48, 48), "TIFF"), "grey.tiff"),
}


def all_cases() -> list[Case]:
    return (
        sound_cases()
        + setting_cases()
        + text_cases()
        + latent_cases()
        + checkpoint_cases()
        + photo_cases()
    )

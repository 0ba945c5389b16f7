"""soundedit — edit StyleGAN2 images with sound. Entry point of the Gradio app (and of Spaces).

    python app.py                      # http://127.0.0.1:7860
    python app.py --host 0.0.0.0 --port 8080
    SOUNDEDIT_HOST=0.0.0.0 SOUNDEDIT_PORT=8080 python app.py
    python app.py --bench [--world NAME] [--repeats N]   # click-to-picture time vs the edit

The page itself lives in demo/ (layout and handlers); the editing in the soundedit library.
"""

from __future__ import annotations

import argparse
import errno
import os
import socket
import sys

import torch

from demo import WorldCatalog, build_demo, launch_options, queue_options
from demo.bench import time_page
from demo.errors import plain_message
from soundedit import strict_json


def default_device() -> str:
    """SOUNDEDIT_DEVICE, else CUDA when present, else the CPU."""
    if os.environ.get("SOUNDEDIT_DEVICE"):
        return os.environ["SOUNDEDIT_DEVICE"]
    return "cuda" if torch.cuda.is_available() else "cpu"


def whole_number(low: int, high: int):
    """argparse type: a whole number in [low, high], refused with the range it accepts."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = low - 1
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(
                f"must be a whole number in [{low}, {high}], got {text!r}"
            )
        return value

    return parse


port_number = whole_number(1, 65535)  # a TCP port
repeat_count = whole_number(1, 50)  # edits timed by --bench


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    env = os.environ.get
    parser = argparse.ArgumentParser(description="Serve the soundedit web app.")
    parser.add_argument(
        "--host",
        default=env("SOUNDEDIT_HOST") or env("GRADIO_SERVER_NAME") or "127.0.0.1",
        help="interface to bind (default 127.0.0.1; env SOUNDEDIT_HOST)",
    )
    parser.add_argument(
        "--port",
        type=port_number,
        default=env("SOUNDEDIT_PORT") or env("GRADIO_SERVER_PORT") or "7860",
        help="port, 1-65535 (default 7860; env SOUNDEDIT_PORT)",
    )
    parser.add_argument("--device", default=None, help="cpu or cuda (env SOUNDEDIT_DEVICE)")
    parser.add_argument(
        "--bench",
        action="store_true",
        help="serve nothing: time the page's Run from click to final picture against the edit "
        "itself, one JSON line per repeat and one with the medians (demo/bench.py)",
    )
    parser.add_argument("--world", default=None, help="--bench: the world (default the page's)")
    parser.add_argument(
        "--repeats", type=repeat_count, default=3, help="--bench: timed edits, 1-50 (default 3)"
    )
    return parser.parse_args(argv)


def check_port_free(host: str, port: int) -> None:
    """SystemExit with a plain message when ``host:port`` cannot be bound (in use, no access)."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe.bind((host, port))
        except OSError as e:
            print(f"app.py: error: {bind_problem(host, port, e)}", file=sys.stderr)
            raise SystemExit(2) from None


def bind_problem(host: str, port: int, error: OSError) -> str:
    if error.errno == errno.EADDRINUSE:
        return (
            f"port {port} on {host} is already in use (another server?); "
            "choose another with --port or SOUNDEDIT_PORT"
        )
    if error.errno == errno.EACCES:
        return f"no permission to use port {port} on {host}; choose a port above 1023 with --port"
    return f"cannot serve on {host}:{port} ({error.strerror or error}); check --host and --port"


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.bench:
        bench(args)
        return
    check_port_free(args.host, args.port)
    demo = build_demo(WorldCatalog(device=args.device or default_device()))
    demo.queue(**queue_options())
    try:
        demo.launch(server_name=args.host, server_port=args.port, **launch_options())
    except OSError as e:  # taken between the check and the launch
        print(f"app.py: error: {bind_problem(args.host, args.port, e)}", file=sys.stderr)
        raise SystemExit(2) from None


def bench(args: argparse.Namespace) -> None:
    """Print demo.bench's rows as JSON lines; a world that cannot load is named, not traced."""

    try:
        device = args.device or default_device()
        for row in time_page(args.world, repeats=args.repeats, device=device):
            print(strict_json.dumps(row), flush=True)
    except Exception as e:
        message = plain_message(e)
        if message is None:
            raise
        print(f"app.py --bench: error: {message}", file=sys.stderr)
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()

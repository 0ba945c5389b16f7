"""soundedit — edit StyleGAN2 images with sound. Entry point of the Gradio app (and of Spaces).

    python app.py                      # http://127.0.0.1:7860
    python app.py --host 0.0.0.0 --port 8080
    SOUNDEDIT_HOST=0.0.0.0 SOUNDEDIT_PORT=8080 python app.py

The page itself lives in demo/ (layout and handlers); the editing in the soundedit library.
"""

from __future__ import annotations

import argparse
import os


def default_device() -> str:
    """SOUNDEDIT_DEVICE, else CUDA when present, else the CPU."""
    if os.environ.get("SOUNDEDIT_DEVICE"):
        return os.environ["SOUNDEDIT_DEVICE"]
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


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
        type=int,
        default=int(env("SOUNDEDIT_PORT") or env("GRADIO_SERVER_PORT") or 7860),
        help="port (default 7860; env SOUNDEDIT_PORT)",
    )
    parser.add_argument("--device", default=None, help="cpu or cuda (env SOUNDEDIT_DEVICE)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    from demo import WorldCatalog, build_demo, launch_options, queue_options

    demo = build_demo(WorldCatalog(device=args.device or default_device()))
    demo.queue(**queue_options())
    demo.launch(server_name=args.host, server_port=args.port, **launch_options())


if __name__ == "__main__":
    main()

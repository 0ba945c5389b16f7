"""Low-level ops: pure-PyTorch references that define them, and an optional CUDA extension.

``impl="ref"`` always uses PyTorch; ``impl="cuda"`` asks for the extension (built lazily with
ninja on first use; on failure it warns once and falls back to the reference); ``impl="auto"``
uses the extension only for CUDA tensors. Nothing is compiled at import.
"""

from soundedit.gan.ops.bias_act import bias_act
from soundedit.gan.ops.upfirdn2d import make_kernel, upfirdn2d

__all__ = ["bias_act", "make_kernel", "upfirdn2d"]

"""Encoders into CLIP space: the CLIP bridge (open_clip), audio encoders, and ArcFace IR-SE50.

Submodules are imported on demand (``soundedit.encoders.clip``, ``.audio``, ``.identity``) so
that importing one does not pull in the others' dependencies.
"""

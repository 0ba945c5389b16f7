"""Seeded trainers for the SoundScapes models, one module each around one fit loop.

``fit`` (the loop, its schedule, seeding, progress lines, snapshots and recorded command),
``probe``, ``generator`` (with its losses in ``generator_loss``), ``clip`` (the tiny CLIP),
``audio`` (the audio encoder, through soundedit.train) and ``recogniser``. Each ``train_*``
function makes its data on the fly from the renderer / synthesiser, is fully determined by its
seed, logs a line every few hundred steps, and writes its weights under ``weights/soundscapes/``
(safetensors + json with the command settings and the wall time).
"""

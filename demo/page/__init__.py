"""The page's panels, one module each: what each shows and how its events are wired.

:mod:`demo.layout` puts them together. Each panel module has ``panel(ui, ...)`` (its widgets,
stored by name in ``ui``) and ``wire(ui, handlers, ...)`` (its events).
"""

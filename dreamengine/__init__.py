"""dreamengine: hears sound events and dreams images of them on one continuously evolving canvas.

The package is laid out as the pipeline: ``audio`` → ``features`` → ``classifier`` →
``selection`` → ``sampler`` → ``models``, with ``render`` and ``recording`` on the output side.
Only ``engine`` wires stages together, and only ``cli`` builds an engine.
"""

__version__ = "0.1.0"

"""The performer's controls: one bus through which every live parameter changes, and the inputs
that drive it (window keys, OSC, MIDI, presets).

- :mod:`.bus`: the parameters, their types and ranges (one table, also checking config files
  and ``--set``), the live state and its change log;
- :mod:`.addresses`: the OSC address space, as data;
- :mod:`.console`: keys, OSC and MIDI messages turned into bus calls, replies and presets;
- :mod:`.keys`, :mod:`.osc`, :mod:`.midi`, :mod:`.presets`: one input or file format each.

Nothing here imports torch or GL; ``pythonosc`` is imported only in :mod:`.osc` and ``mido``
only in :mod:`.midi`.
"""

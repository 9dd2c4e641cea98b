"""Selection: running sound probabilities → the image-class weights that steer the dream."""

from dreamengine.selection.mapping import ClassMap, load_class_map
from dreamengine.selection.selector import (
    Selection,
    SelectionConfig,
    Selector,
    class_weights,
    smoothing_alpha,
)

__all__ = ["ClassMap", "Selection", "SelectionConfig", "Selector", "class_weights",
           "load_class_map", "smoothing_alpha"]

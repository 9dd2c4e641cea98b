"""Selection: running sound probabilities → the image-class weights that steer the dream."""

from dreamengine.selection.mapping import ClassMap, load_class_map
from dreamengine.selection.selector import Selection, SelectionConfig, Selector, smoothing_alpha

__all__ = ["ClassMap", "Selection", "SelectionConfig", "Selector", "load_class_map",
           "smoothing_alpha"]

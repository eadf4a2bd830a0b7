"""PtychoPINN TensorFlow / Keras 3 backend.

``import ptychopinn_tf`` is cheap: TensorFlow and Keras are imported only when a model is
built (see :mod:`ptychopinn_tf._env`). The plugin module registered with core is
:mod:`ptychopinn_tf._plugin`; options are :class:`ptychopinn_tf.options.TFOptions`.
"""

from ptychopinn_tf._version import __version__
from ptychopinn_tf.options import TFOptions

__all__ = ["TFOptions", "__version__"]

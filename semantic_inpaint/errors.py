"""Errors the library raises on bad input: each message names the problem and the fix."""


class InpaintInputError(ValueError):
    """An image, a mask or an option the library cannot use as given."""


class WeightsError(RuntimeError):
    """A weight file that is missing, corrupt, modified or of the wrong architecture."""


class LandmarkError(RuntimeError):
    """dlib or its 68-point model cannot be used, or cannot read a face."""

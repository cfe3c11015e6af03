"""Real photos in, real photos out: find each face, align it to the DCGAN's 64x64 frame,
complete it there, and lay the completion back into the photo's hole only.

    from semantic_inpaint.photo import complete_photo
    result = complete_photo("group.jpg", "hole.png")   # mask: 1 (white) = known, 0 = missing
    result.image.save("completed.jpg")

In Jupyter, `MaskPainter(photo)` lets a person paint the hole (needs `anywidget`).
"""

from semantic_inpaint.photo.complete_photo import AlignedFace, PhotoCompletion, PhotoFace, align_faces, complete_photo

__all__ = ["AlignedFace", "MaskPainter", "PhotoCompletion", "PhotoFace", "align_faces", "complete_photo"]


def __getattr__(name: str) -> object:
    # Imported on first use: the widget needs anywidget (and Jupyter), the rest of the library does not.
    if name == "MaskPainter":
        from semantic_inpaint.photo.paint import MaskPainter

        return MaskPainter
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

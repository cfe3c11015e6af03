"""Real photos in, real photos out: find each face, align it to the DCGAN's 64x64 frame,
complete it there, and lay the completion back into the photo's hole only.

    from semantic_inpaint.photo import complete_photo
    result = complete_photo("group.jpg", "hole.png")   # mask: 1 (white) = known, 0 = missing
    result.image.save("completed.jpg")
"""

from semantic_inpaint.photo.complete_photo import PhotoCompletion, PhotoFace, complete_photo

__all__ = ["PhotoCompletion", "PhotoFace", "complete_photo"]

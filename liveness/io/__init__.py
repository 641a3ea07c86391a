"""Decoding: images (EXIF, bit depth, size limits), video files and cameras, in one place."""

"""File input/output: atomic writes, images with channel order intact, polarimetric captures."""

"""`python -m semantic_inpaint.cli ...`, and under torchrun `-m semantic_inpaint.cli -- train ...`."""

from semantic_inpaint.cli import main

main()

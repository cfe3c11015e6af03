#!/bin/bash
# Run here, before a GPU session's first `run` (see DEVELOPERS.md, "When a session is lent a GPU").
# The device machine has PyTorch but not dlib, its 68-point model, the teacher or the held-out
# faces. The model (100 MB) is larger than what one call may carry (64 MiB with the repo), so it
# travels xz-compressed in three parts, one per call, while the machine stays warm.
set -eu
cd "$(dirname "$0")/../.."
grep -qx '/.gpu/' .git/info/exclude 2>/dev/null || echo '/.gpu/' >> .git/info/exclude
mkdir -p .gpu .whl
model=$(.venv/bin/python -c "from semantic_inpaint.losses.landmarks import dlib_model_path; print(dlib_model_path())")
sha256sum "$model" | cut -d' ' -f1 > .gpu/model.sha256
[ -f .gpu/part2 ] || { xz -9 -T0 -c "$model" | split -b 21200000 -d -a 1 - .gpu/part; }
python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 -d .whl \
    dlib-bin==20.0.1.post1 pytorch-msssim==1.0.0 gan-face-generate==1.1.1
# the held-out faces exactly as this machine renders them (the baselines' rows were made from these)
.venv/bin/python -c "from semantic_inpaint.data import load_images; load_images('synthetic-holdout', 256); load_images('synthetic-holdout', 128); load_images('synthetic-holdout', 64)"
ls -la .gpu .whl data

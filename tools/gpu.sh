#!/bin/bash
# The checks and tables that need a CUDA GPU, on any CUDA machine with the package installed
# (`make install TORCH=cuda`; see README). From the repo root:
#
#     bash tools/gpu.sh STEP [STEP ...]        # results and logs under $RESULTS (default gpu-results/)
#
# Steps:
#   env              GPU, torch and dlib versions
#   cudatest         the test suite's CUDA copies (the `device` fixture's cuda parameter)
#   bench            s/step and faces/s by batch size (benchmarks/bench_complete.py)
#   throughput       faces/s end to end and PSNR of each fast path (benchmarks/bench_throughput.py)
#   gan-celeba       the GAN rows alone: yeh2017 at the thesis's settings (K = 64, 1000 iterations)
#                    and fast, 4 masks, the 100 celeba-mini test faces, $WEIGHTS (default: celeba)
#   tables-celeba    all eight methods x 4 masks on the 100 celeba-mini test faces, GAN methods
#                    at the thesis's settings (K = 64, 1000 iterations), $WEIGHTS (default: celeba)
#   train-celeba     one more rebuilding stage of the celeba set (the model card's recipe, warm
#                    started from $WEIGHTS), exported at each step of $EXPORT_AT while the next
#                    would end within $TRAIN_SECONDS (0: no limit); then `fast` on the $VAL_FACES
#                    (50) validation faces (centre and random masks, benchmarks/bench_refine.py)
#                    for $WEIGHTS and each export; $DEVICE (default cuda) runs both
#   card-celeba      the celeba model card's figures at the thesis's settings
#   tables-synthetic the same tables on 128 synthetic held-out faces, synthetic weights
#   gan-synthetic    yeh2017 at the thesis's settings and fast on $SYNTHETIC_FACES (640) synthetic
#                    held-out faces, masks $SYNTHETIC_MASKS (centre,random), synthetic weights: enough
#                    faces for a paired interval of fast - yeh2017 about +-0.2 dB wide on the centre
#                    hole (per-face SD 2.6 dB over 128 faces); evaluate resumes where a run stopped
set -u
export PYTHONUNBUFFERED=1
RESULTS=${RESULTS:-gpu-results}
mkdir -p "$RESULTS"
# PY and SI may be commands of several words, e.g. SI="python3 -m semantic_inpaint.cli"
PY=${PY:-.venv/bin/python}
SI=${SI:-.venv/bin/semantic-inpaint}
ALL=yeh2017,thesis,structure,tv,navier_stokes,telea,biharmonic,nearest
WEIGHTS=${WEIGHTS:-celeba}
EXPORT_AT=${EXPORT_AT:-"2000 4000 6000 8000 10000"} TRAIN_SECONDS=${TRAIN_SECONDS:-0} SEED=${SEED:-3}
VAL_FACES=${VAL_FACES:-50} DEVICE=${DEVICE:-cuda}
SYNTHETIC_FACES=${SYNTHETIC_FACES:-640} SYNTHETIC_MASKS=${SYNTHETIC_MASKS:-centre,random}
run() {  # run NAME command...: logged to $RESULTS/NAME.log
  local name=$1; shift
  echo "== $name"
  "$@" 2>&1 | tee "$RESULTS/$name.log"
}
train_celeba() {  # exports $RESULTS/train-celeba/export-STEP, then validates them beside $WEIGHTS
  local out=$RESULTS/train-celeba start=$SECONDS step=0 per_kstep=0 next t
  local sets=("$WEIGHTS")
  for next in $EXPORT_AT; do
    # stop before a chunk that would end past TRAIN_SECONDS, at the last chunk's seconds a step
    [ "$TRAIN_SECONDS" -gt 0 ] && [ $((SECONDS - start + (next - step) * per_kstep / 1000)) -gt "$TRAIN_SECONDS" ] && break
    t=$SECONDS
    $SI train --data celeba-mini:fit --out "$out" --steps "$next" --warm-start "$WEIGHTS" --reconstruction 100 \
        --damaged-negatives 0.5 --augment color,translation --freeze-d 1 --seed "$SEED" --sample-every 1000 \
        --device "$DEVICE" --export "$out/export-$next" || return 1
    sets+=("$out/export-$next")
    per_kstep=$(((SECONDS - t) * 1000 / (next - step) + 1))
    step=$next
    echo "step $step after $((SECONDS - start)) s"
  done
  for w in "${sets[@]}"; do
    echo "-- validation: $w"
    $PY benchmarks/bench_refine.py --data celeba-mini:val --n "$VAL_FACES" --mask-seed 850 --masks centre,random \
        --weights "$w" --device "$DEVICE" --out "$RESULTS/val/$(basename "$w")" || return 1
  done
}
for s in "$@"; do
  case $s in
    env) run env bash -c "nvidia-smi -L; $PY -c 'import torch, dlib; print(torch.__version__, torch.cuda.get_device_name(), dlib.__version__)'" ;;
    cudatest) run cudatest $PY -m pytest -q tests/test_search.py tests/test_complete.py -k cuda ;;
    bench) run bench $PY benchmarks/bench_complete.py --device cuda --batches 1,4,16,64 ;;
    throughput) run throughput $PY benchmarks/bench_throughput.py --device cuda --faces 64 --out "$RESULTS/throughput.csv" ;;
    gan-celeba) run gan-celeba $SI evaluate --data celeba-mini:test --n 100 --masks centre,random,left,right \
        --methods yeh2017,fast --weights "$WEIGHTS" --device cuda --out "$RESULTS/gan-celeba" ;;
    tables-celeba) run tables-celeba $SI evaluate --data celeba-mini:test --n 100 --masks centre,left,right,random \
        --methods "$ALL" --nn-data celeba-mini:fit --nn-n 849 --weights "$WEIGHTS" --device cuda --out "$RESULTS/tables-celeba" ;;
    train-celeba) run train-celeba train_celeba ;;
    card-celeba) run card-celeba $SI card --weights celeba --run pretrained/celeba --data celeba-mini:test --holdout 100 \
        --project 100 --train-data celeba-mini:fit --device cuda --out "$RESULTS/card-celeba" ;;
    tables-synthetic) run tables-synthetic $SI evaluate --weights synthetic --data synthetic-holdout --n 128 \
        --masks centre,left,right,random --methods "$ALL" --nn-data synthetic --nn-n 2000 --device cuda --out "$RESULTS/tables-synthetic" ;;
    gan-synthetic) run gan-synthetic $SI evaluate --weights synthetic --data synthetic-holdout --n "$SYNTHETIC_FACES" \
        --masks "$SYNTHETIC_MASKS" --methods yeh2017,fast --device cuda --out "$RESULTS/gan-synthetic" ;;
    *) echo "unknown step $s (see the head of $0)"; exit 2 ;;
  esac
done

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
#                    and fast, 4 masks, the 100 celeba-mini test faces, default (celeba) weights
#   tables-celeba    all eight methods x 4 masks on the 100 celeba-mini test faces, GAN methods
#                    at the thesis's settings (K = 64, 1000 iterations), default (celeba) weights
#   card-celeba      the celeba model card's figures at the thesis's settings
#   tables-synthetic the same tables on 128 synthetic held-out faces, synthetic weights
set -u
export PYTHONUNBUFFERED=1
RESULTS=${RESULTS:-gpu-results}
mkdir -p "$RESULTS"
# PY and SI may be commands of several words, e.g. SI="python3 -m semantic_inpaint.cli"
PY=${PY:-.venv/bin/python}
SI=${SI:-.venv/bin/semantic-inpaint}
ALL=yeh2017,thesis,structure,tv,navier_stokes,telea,biharmonic,nearest
run() {  # run NAME command...: logged to $RESULTS/NAME.log
  local name=$1; shift
  echo "== $name"
  "$@" 2>&1 | tee "$RESULTS/$name.log"
}
for s in "$@"; do
  case $s in
    env) run env bash -c "nvidia-smi -L; $PY -c 'import torch, dlib; print(torch.__version__, torch.cuda.get_device_name(), dlib.__version__)'" ;;
    cudatest) run cudatest $PY -m pytest -q tests/test_search.py tests/test_complete.py -k cuda ;;
    bench) run bench $PY benchmarks/bench_complete.py --device cuda --batches 1,4,16,64 ;;
    throughput) run throughput $PY benchmarks/bench_throughput.py --device cuda --faces 64 --out "$RESULTS/throughput.csv" ;;
    gan-celeba) run gan-celeba $SI evaluate --data celeba-mini:test --n 100 --masks centre,random,left,right \
        --methods yeh2017,fast --device cuda --out "$RESULTS/gan-celeba" ;;
    tables-celeba) run tables-celeba $SI evaluate --data celeba-mini:test --n 100 --masks centre,left,right,random \
        --methods "$ALL" --nn-data celeba-mini:fit --nn-n 849 --device cuda --out "$RESULTS/tables-celeba" ;;
    card-celeba) run card-celeba $SI card --weights celeba --run pretrained/celeba --data celeba-mini:test --holdout 100 \
        --project 100 --train-data celeba-mini:fit --device cuda --out "$RESULTS/card-celeba" ;;
    tables-synthetic) run tables-synthetic $SI evaluate --weights synthetic --data synthetic-holdout --n 128 \
        --masks centre,left,right,random --methods "$ALL" --nn-data synthetic --nn-n 2000 --device cuda --out "$RESULTS/tables-synthetic" ;;
    *) echo "unknown step $s (see the head of $0)"; exit 2 ;;
  esac
done

#!/bin/bash
# Run on the device machine, from the repo root: BUDGET=560 bash tools/device/steps.sh STEP...
# Reassembles dlib's model from the parts earlier calls left in /tmp/dl, installs the carried
# wheels, runs each STEP with what is left of BUDGET seconds, and puts the results in $OUT.
set -u
export PYTHONUNBUFFERED=1
T0=$(date +%s); BUDGET=${BUDGET:-560}
mkdir -p /tmp/dl /tmp/res/logs
for p in .gpu/part*; do [ -f "$p" ] && cp "$p" /tmp/dl/; done
if [ ! -s /tmp/sp68.dat ] && [ -f /tmp/dl/part2 ] && [ -f .gpu/model.sha256 ]; then
  cat /tmp/dl/part0 /tmp/dl/part1 /tmp/dl/part2 | xz -d -T0 > /tmp/sp68.dat
  echo "$(cat .gpu/model.sha256)  /tmp/sp68.dat" | sha256sum -c || rm -f /tmp/sp68.dat
fi
[ -d /tmp/site/dlib ] || python3 -m pip install -q --no-index --no-deps --no-compile --target /tmp/site .whl/*.whl || exit 1
export PYTHONPATH=/tmp/site:$PWD SEMANTIC_INPAINT_DLIB_MODEL=/tmp/sp68.dat
B="python3 benchmarks/bench_complete.py --device cuda"

step() {  # step NAME command...: run with what is left of the budget, logged
  local name=$1 left=$(( BUDGET - ($(date +%s) - T0) - 30 )); shift
  if [ "$left" -lt 20 ]; then echo "== $name skipped: no time left"; return; fi
  echo "== $name ($left s left)"
  timeout "$left" "$@" 2>&1 | tee -a "/tmp/res/logs/$name.log"
}

for s in "$@"; do
  case $s in
    env) nvidia-smi -L; python3 -c "import torch, dlib; print(torch.__version__, torch.cuda.get_device_name(), dlib.__version__)" ;;
    cudatest) step cudatest python3 -m pytest -q -p no:cacheprovider tests/test_search.py tests/test_complete.py -k cuda ;;
    profile) step profile $B --profile --batches 64 ;;
    profile-fast) step profile-fast $B --profile --batches 64 --options ${FAST:-bf16} ;;
    notf32) step notf32 $B --batches 1,64 --no-tf32 ;;
    bench) step bench $B --batches 1,4,16,64,128 ;;
    bench-fast) step bench-fast $B --batches 1,4,16,64,128 --options ${FAST:-bf16} ;;
    throughput) step throughput python3 benchmarks/bench_throughput.py --device cuda --faces ${FACES:-64} --variants ${VARIANTS:-fp32,bf16,halve,bf16+halve} --out /tmp/res/throughput.csv ;;
    compare) step compare $B --compare fp32,nofold,nondet,autotune,nchw,bf16,bf16+nofold,bf16+nondet --batches 64 --repeats 2 ;;
    compare-compile) step compare-compile $B --compare fp32,compile+fold,bf16,bf16+compile+fold --batches 64 ;;
    graphs) step graphs-1 $B --compare fp32,graphs+fold,bf16,bf16+graphs+fold --batches 1 --steps 20
            step graphs-64 $B --compare fp32,graphs+fold,bf16+autotune --batches 64 ;;
    landmarks) step landmarks python3 benchmarks/bench_landmarks.py --device cuda ;;
    pruning) step pruning python3 benchmarks/bench_pruning.py collect --device cuda --faces 32 --out /tmp/res/pruning ;;
    pruning-bf16) step pruning-bf16 python3 benchmarks/bench_pruning.py collect --device cuda --faces 32 --precision bf16 --out /tmp/res/pruning-bf16 ;;
    *) echo "unknown step $s" ;;
  esac
done
tar czf "$OUT/res.tgz" -C /tmp/res .
ls -la "$OUT"; echo "elapsed $(( $(date +%s) - T0 )) s"

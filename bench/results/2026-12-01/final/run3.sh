#!/bin/bash
set -x
cd /work/main
export TOKENIZERS_PARALLELISM=false
R=/tmp/bench/final
mkdir -p $R
for i in 1 2 3; do
  python bench/bench_infer.py --model models/default --corpus ../shared/corpus --chars 100000 --hf-chars 100000 --threads 1 \
    --backends torch,onnx,int8,torch-int8 --paths ours,bare,hf,paired --rounds 5 --gold data/gold --json-out $R/shipped$i.json > $R/shipped$i.log 2>&1
done
python bench/stages.py --model models/default --corpus ../shared/corpus --chars 100000 --repeat 5 > $R/stages.md 2> $R/stages.log
python bench/bench_scale.py --model models/default --corpus ../shared/corpus --chars 1000000 --workers 1,2 --repeat 2 --memory-chars 1000000 --json-out $R/scale1m.json > $R/scale1m.log 2>&1
echo done > $R/DONE

#!/bin/bash
set -x
cd /work/main
export TOKENIZERS_PARALLELISM=false
R=/tmp/bench
for i in 1 2 3; do
  python bench/bench_infer.py --model models/default --corpus ../shared/corpus --chars 100000 --hf-chars 100000 --threads 1 \
    --backends torch,onnx,int8,torch-int8 --paths ours,bare,hf,paired --rounds 5 --gold data/gold --json-out $R/shipped$i.json > $R/shipped$i.log 2>&1
done
python bench/agreement.py --model models/default --corpus ../shared/corpus --chars 100000 > $R/agree_shipped.json 2> $R/agree_shipped.log
python bench/bench_scale.py --model models/default --corpus ../shared/corpus --chars 200000 --workers 1,2 --dask --repeat 3 --memory-chars 1000000 --json-out $R/scale.json > $R/scale.log 2>&1
python bench/make_bertbase.py /tmp/bertbase > $R/bertbase_build.log 2>&1
python bench/bench_infer.py --model /tmp/bertbase --corpus ../shared/corpus --chars 20000 --hf-chars 20000 --threads 1 \
    --backends torch,onnx,int8,torch-int8 --paths ours,bare,hf --json-out $R/base1.json > $R/base1.log 2>&1
for i in 2 3; do
  python bench/bench_infer.py --model /tmp/bertbase --corpus ../shared/corpus --chars 20000 --threads 1 \
    --backends torch,int8 --paths ours,bare --json-out $R/base$i.json > $R/base$i.log 2>&1
done
python bench/bench_infer.py --model /tmp/bertbase --corpus ../shared/corpus --chars 20000 --threads 1 \
    --backends torch --paths paired --rounds 3 --json-out $R/base_paired.json > $R/base_paired.log 2>&1
python bench/agreement.py --model /tmp/bertbase --corpus ../shared/corpus --chars 20000 --max-gold-docs 3 --backends int8,torch-int8 > $R/agree_base.json 2> $R/agree_base.log
python bench/agreement.py --model /tmp/bertbase --corpus ../shared/corpus --chars 20000 --max-gold-docs 3 --backends int8 --rule-prior 3 > $R/agree_base_prior.json 2> $R/agree_base_prior.log
echo done > $R/DONE

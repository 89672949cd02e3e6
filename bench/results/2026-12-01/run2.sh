#!/bin/bash
set -x
cd /work/main
export TOKENIZERS_PARALLELISM=false
R=/tmp/bench
python bench/stages.py --model models/default --corpus ../shared/corpus --chars 100000 --repeat 5 > $R/stages.md 2> $R/stages.log
python bench/agreement.py --model models/default --corpus ../shared/corpus --chars 100000 > $R/agree_shipped.json 2> $R/agree_shipped.log
python bench/bench_scale.py --model models/default --corpus ../shared/corpus --chars 1000000 --workers 1,2 --dask --repeat 2 --json-out $R/scale1m.json > $R/scale1m.log 2>&1
echo done > $R/DONE2

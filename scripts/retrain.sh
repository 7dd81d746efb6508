#!/usr/bin/env bash
# Re-render the corpus and retrain the embedded models on it, in order; each step logs to runs/retrain/STEP.log.
#
#   bash scripts/retrain.sh [corpus] [clip] [text-head] [generator] [evaluator-corpus] [evaluator] [prompts] [card]
#
# With no step named, runs them all (about 4 h on 2 cores: corpus 15 min, CLIP 12 min, multilingual text
# head 25 min, generator 20 min (half of it embedding its captions in other languages with e5, cached),
# evaluator corpus 30 min, evaluator 80-130 min). Weights are written to runs/retrain/ first and copied over the
# shipped ones in pipeline/assets/ only when their step succeeded, so a failed or stopped run leaves the
# shipped models as they were. The multilingual text head learns from the shipped CLIP model's features, and
# the generator from both: retrain them in this order after the CLIP step. Run the tests before committing
# the new weights. EVAL_STEPS=N trains the evaluator for N steps instead of 14400 (half the steps
# is about half the time, and a weaker evaluator: say so).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python}
LOG=runs/retrain
ASSETS=pipeline/assets
mkdir -p "$LOG"
steps=("$@")
[ ${#steps[@]} -eq 0 ] && steps=(corpus clip text-head generator evaluator-corpus evaluator prompts card)

run() {  # run NAME CMD...: log to $LOG/NAME.log, fail loudly
  local name=$1; shift
  echo "== $name: $* (log $LOG/$name.log)"
  local t0=$SECONDS
  "$@" >"$LOG/$name.log" 2>&1 || { echo "$name failed; see $LOG/$name.log" >&2; tail -20 "$LOG/$name.log" >&2; exit 1; }
  echo "== $name done in $((SECONDS - t0)) s"
}

for step in "${steps[@]}"; do
  case $step in
    corpus)
      run corpus "$PY" scripts/make_corpus.py --out data/corpus --avatars 8000 --views 4 --swatches 3000 --seed 0 ;;
    clip)
      run clip "$PY" scripts/train_clip.py --corpus data/corpus --templates train --steps 2200 --seed 0 \
        --eval-every 550 --out "$LOG/avatarforge-vit16-minilm.safetensors"
      cp "$LOG/avatarforge-vit16-minilm.safetensors" "$LOG/avatarforge-vit16-minilm.train.json" "$ASSETS/" ;;
    generator)
      run generator "$PY" scripts/train_generator.py --corpus data/corpus --steps 4000 --seed 0 \
        --out "$LOG/generator-avatarforge-vit16-minilm.safetensors"
      cp "$LOG/generator-avatarforge-vit16-minilm.safetensors" "$LOG/generator-avatarforge-vit16-minilm.train.json" \
        "$ASSETS/" ;;
    text-head)
      run text-head "$PY" scripts/train_text_head.py --seed 0 --out "$LOG/text-head-e5-avatarforge-vit16-minilm.safetensors"
      cp "$LOG/text-head-e5-avatarforge-vit16-minilm.safetensors" "$LOG/text-head-e5-avatarforge-vit16-minilm.train.json" \
        "$ASSETS/" ;;
    evaluator-corpus)
      run evaluator-corpus "$PY" scripts/make_corpus.py --out data/corpus_ev --avatars 20000 --views 2 \
        --swatches 3000 --seed 5 ;;
    evaluator)
      run evaluator "$PY" scripts/train_clip.py --corpus data/corpus_ev --model avatarforge-eval-vit8-minilm \
        --templates evaluator --steps "${EVAL_STEPS:-14400}" --seed 1 --eval-every 3600 \
        --out "$LOG/avatarforge-eval-vit8-minilm.safetensors"
      cp "$LOG/avatarforge-eval-vit8-minilm.safetensors" "$LOG/avatarforge-eval-vit8-minilm.train.json" "$ASSETS/" ;;
    prompts)
      run heldout-prompts "$PY" scripts/make_heldout_prompts.py
      run paraphrase-prompts "$PY" scripts/make_paraphrase_prompts.py ;;
    card)
      run card "$PY" scripts/write_model_card.py ;;
    *)
      echo "unknown step '$step': corpus clip text-head generator evaluator-corpus evaluator prompts card" >&2; exit 2 ;;
  esac
done

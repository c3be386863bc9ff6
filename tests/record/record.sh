#!/usr/bin/env bash
# Re-record the LLM cassettes against a real local model. See tests/README.md.
# Needs the local model server (Qwen2.5-Coder-1.5B-Instruct on llama-cpp-python): ../shared/tools/local-llm.sh start,
# or any OpenAI-compatible server at $UPSTREAM. Extra arguments go to pytest (e.g. -k judge).
set -euo pipefail
cd "$(dirname "$0")/../.."
UPSTREAM=${UPSTREAM:-http://127.0.0.1:8765}
curl -sf "$UPSTREAM/v1/models" >/dev/null || { echo "no model server at $UPSTREAM" >&2; exit 1; }
python3 tests/record/proxy.py --upstream "$UPSTREAM" --port 8081 &
proxy=$!
trap 'kill $proxy 2>/dev/null' EXIT
for _ in $(seq 30); do curl -s -o /dev/null http://127.0.0.1:8081/ && break; sleep 0.2; done
SYNTH_RECORD=1 python -m pytest -q -p no:randomly tests/test_llm_cassettes.py "$@"

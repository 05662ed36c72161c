#!/usr/bin/env bash
# Printed by `make run` before the server starts: how to call the gateway.
host="$1"; port="$2"
cat <<MSG

hybrid-gateway on http://$host:$port  (dev key: sk-hybridgw-dev, from the embedded default policy)

  curl -s http://$host:$port/v1/chat/completions \\
    -H 'Authorization: Bearer sk-hybridgw-dev' -H 'Content-Type: application/json' \\
    -d '{"model": "auto", "messages": [{"role": "user", "content": "Say hello in French."}]}'

  python - <<'PY'
  from openai import OpenAI
  client = OpenAI(base_url="http://$host:$port/v1", api_key="sk-hybridgw-dev")
  for chunk in client.chat.completions.create(model="auto", stream=True,
          messages=[{"role": "user", "content": "Name three colors."}]):
      print(chunk.choices[0].delta.content or "", end="", flush=True) if chunk.choices else None
  PY

MSG

"""Optional narration by a language model behind an OpenAI-compatible /v1/chat/completions
endpoint, off unless TRADEOPS_AGENT_LLM_URL is set. The model only rewrites the figures it is
given into prose; the template narrative stays the fallback, and nothing depends on it. The
request goes to an address the egress policy checked (runtime/pinning.py), never redirected."""

from __future__ import annotations

import httpx

from runtime.canonical import canonical_json
from runtime.pinning import send
from services.agent.compliance.domain.summaries import Narration
from services.agent.compliance.settings import LlmSettings

SYSTEM = (
    "You write short, factual audit summaries for a trading desk's compliance team. Use only "
    "the figures given. Mention the seq range and the checkpoint. No speculation."
)


def prompt(figures: dict[str, object]) -> str:
    return f"Summarise these audit-log figures in one paragraph:\n{canonical_json(figures)}"


async def narrate(settings: LlmSettings, figures: dict[str, object]) -> Narration:
    """Raises httpx.HTTPError or ValueError when the endpoint fails or answers nonsense, and
    egress.Refused or egress.Unresolvable when its host resolves outside the policy or not."""
    text = prompt(figures)
    body = {
        "model": settings.model,
        "temperature": 0,
        "messages": [{"role": "system", "content": SYSTEM}, {"role": "user", "content": text}],
    }
    headers = {"Authorization": f"Bearer {settings.key}"} if settings.key else {}
    async with httpx.AsyncClient(timeout=settings.timeout_s) as client:
        request = client.build_request("POST", settings.endpoint, json=body, headers=headers)
        reply = await send(client, settings.egress, request)
        reply.raise_for_status()
    try:
        output = str(reply.json()["choices"][0]["message"]["content"]).strip()
    except (KeyError, IndexError, TypeError) as exc:
        raise ValueError(f"not a chat completion: {exc!r}") from exc
    if not output:
        raise ValueError("the model returned an empty narrative")
    return Narration(settings.model, f"{SYSTEM}\n\n{text}", output)

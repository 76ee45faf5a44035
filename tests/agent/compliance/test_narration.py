"""Optional narration by a language model, through a local fake of the protocol."""

from __future__ import annotations

import json
from pathlib import Path

from runtime.auth import Principal
from runtime.db import Database
from services.agent.compliance.clients.audit import AuditReader
from services.agent.compliance.service import summaries as summaries
from services.agent.compliance.settings import LlmSettings, SummaryConfig
from tests.agent.compliance.audit_events import SINCE, UNTIL, append_day
from tests.agent.compliance.fake_llm import fake_llm
from tests.agent.compliance.fakes import HandClock
from tests.agent.compliance.helpers import Token
from tradeops.audit.v1 import audit_service_pb2_grpc as audit_grpc


def settings_from(url: str, key_file: Path) -> LlmSettings:
    env = {
        "TRADEOPS_AGENT_LLM_URL": url,
        "TRADEOPS_AGENT_LLM_MODEL": "desk-narrator-7b",
        "TRADEOPS_AGENT_LLM_KEY_FILE": str(key_file),
    }
    settings = LlmSettings.from_env(env)
    assert settings is not None
    return settings


async def test_narration_is_off_unless_an_endpoint_is_configured() -> None:
    assert LlmSettings.from_env({}) is None


async def test_a_language_model_writes_the_narrative_and_prompt_model_and_output_are_kept(
    audit: audit_grpc.AuditServiceAsyncStub, agent_db: Database, token_for: Token, tmp_path: Path
) -> None:
    await append_day(audit, token_for)
    (tmp_path / "key").write_text("sk-test-123\n")
    carol = Principal("carol", frozenset({"compliance"}), "", token_for("carol", "compliance"))
    async with fake_llm() as llm:
        config = SummaryConfig(llm=settings_from(llm.url, tmp_path / "key"))
        summary = await summaries.summarise(
            agent_db,
            AuditReader(audit, carol.token, 5),
            since=SINCE,
            until=UNTIL,
            caller=carol,
            config=config,
            clock=HandClock(),
        )

    [(headers, body)] = llm.requests
    assert headers["path"] == "/v1/chat/completions"
    assert headers["authorization"] == "Bearer sk-test-123"
    assert body["model"] == "desk-narrator-7b"
    assert body["temperature"] == 0
    figures = json.loads(body["messages"][1]["content"].split("\n", 1)[1])
    assert figures["denied"] == 8
    assert figures["checkpoint_size"] == summary.bound.size
    assert summary.narrator == "llm"
    assert summary.narrative == llm.reply
    assert summary.llm is not None
    assert summary.llm.output == llm.reply
    assert summary.llm.model == "desk-narrator-7b"
    assert body["messages"][1]["content"] in summary.llm.prompt
    stored = await summaries.get_summary(agent_db, summary_id=summary.id)
    assert stored.llm == summary.llm
    assert stored.narrative == llm.reply


async def test_a_failing_model_leaves_the_template_narrative(
    audit: audit_grpc.AuditServiceAsyncStub, agent_db: Database, token_for: Token, tmp_path: Path
) -> None:
    await append_day(audit, token_for)
    (tmp_path / "key").write_text("sk-test-123")
    carol = Principal("carol", frozenset({"compliance"}), "", token_for("carol", "compliance"))
    async with fake_llm() as llm:
        llm.status = 503
        config = SummaryConfig(llm=settings_from(llm.url, tmp_path / "key"))
        summary = await summaries.summarise(
            agent_db,
            AuditReader(audit, carol.token, 5),
            since=SINCE,
            until=UNTIL,
            caller=carol,
            config=config,
            clock=HandClock(),
        )

    assert summary.narrator == "template"
    assert summary.llm is None
    assert summary.narrative.startswith(f"From {SINCE.isoformat()} to {UNTIL.isoformat()}")

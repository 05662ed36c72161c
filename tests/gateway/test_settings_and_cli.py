"""Settings precedence (env over .env over YAML file) and the `hybridgw chat/models` commands."""

from __future__ import annotations

from typer.testing import CliRunner

from gateway.cli import app
from gateway.settings import Settings


def test_settings_precedence_env_over_yaml(tmp_path, monkeypatch):
    config = tmp_path / "gateway.yaml"
    config.write_text("port: 9001\nlocal_threads: 3\nlog_level: warning\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HYBRIDGW_CONFIG_FILE", str(config))
    monkeypatch.setenv("HYBRIDGW_PORT", "9002")
    settings = Settings()
    assert settings.port == 9002  # environment wins
    assert settings.local_threads == 3 and settings.log_level == "warning"  # from the YAML file


def test_dotenv_is_read(tmp_path, monkeypatch):
    (tmp_path / ".env").write_text("HYBRIDGW_LOCAL_MAX_QUEUE=3\n")
    monkeypatch.chdir(tmp_path)
    assert Settings().local_max_queue == 3


def test_cli_chat_prints_route_and_answer(write_policy, monkeypatch):
    monkeypatch.setenv("HYBRIDGW_CLASSIFIER", "fake")
    monkeypatch.setenv("HYBRIDGW_TEST_CLOUD_KEY", "sk-cloud-secret")
    result = CliRunner().invoke(app, ["chat", "Hello there", "--policy", str(write_policy())])
    assert result.exit_code == 0, result.output
    assert "route: local/local" in result.output and "rule default" in result.output
    assert "echo: Hello there" in result.output


def test_cli_chat_reports_errors_without_traceback(write_policy, monkeypatch):
    monkeypatch.setenv("HYBRIDGW_CLASSIFIER", "fake")
    result = CliRunner().invoke(
        app, ["chat", "Hi", "--model", "nope", "--policy", str(write_policy())]
    )
    assert result.exit_code == 1
    assert "404 model_not_found" in result.output and "Traceback" not in result.output


def test_cli_models_lists_aliases_with_litellm_prices(write_policy):
    result = CliRunner().invoke(app, ["models", "--policy", str(write_policy())])
    assert result.exit_code == 0, result.output
    assert "cloud" in result.output and "local rate" in result.output

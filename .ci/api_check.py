#!/usr/bin/env python3
"""The API as the ecosystem's own tools see it, against a running Parley.

Starts `parley serve` on a fresh data directory, then:

1. validates the served OpenAPI document with openapi-spec-validator;
2. generates a Python client with openapi-python-client (any warning fails) and makes
   real calls through it: list organizations, create a webhook, create a channel, a flow
   and a campaign, list the campaign's recipients;
3. runs schemathesis (bounded) with its server-error and response checks;
4. checks `/metrics`, after all that traffic, with Prometheus's `promtool check metrics`.

Usage: api_check.py PATH/TO/parley [--schemathesis-seconds N]
"""

import argparse
import importlib
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(binary: str, workdir: str, port: int) -> tuple[subprocess.Popen, str, str]:
    env = dict(os.environ)
    env["PARLEY_SERVER__LISTEN"] = f"127.0.0.1:{port}"
    env["PARLEY_LOG__FORMAT"] = "json"
    log = open(os.path.join(workdir, "serve.log"), "w")
    proc = subprocess.Popen(
        [binary, "serve"], cwd=workdir, env=env, stdout=subprocess.PIPE, stderr=log, text=True
    )
    key_id = secret = None
    deadline = time.time() + 60
    for line in proc.stdout:
        m = re.search(r"API key id: (key_\S+)", line)
        if m:
            key_id = m.group(1)
        m = re.search(r"API key secret: (pk_\S+)", line)
        if m:
            secret = m.group(1)
        if "listening on" in line:
            break
        if time.time() > deadline:
            break
    if not (key_id and secret):
        proc.kill()
        sys.exit("api-check: parley serve did not print its first API key")
    return proc, key_id, secret


def request(base: str, method: str, path: str, token: str | None = None, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, method=method)
    req.add_header("content-type", "application/json")
    if token:
        req.add_header("authorization", f"Bearer {token}")
    with urllib.request.urlopen(req) as resp:
        return json.loads(resp.read())


def validate(document: dict) -> None:
    from openapi_spec_validator import validate as check

    check(document)
    print("api-check: openapi-spec-validator: the document is valid")


def generate_and_call(document: dict, base: str, token: str, workdir: str) -> None:
    spec = os.path.join(workdir, "openapi.json")
    with open(spec, "w") as f:
        json.dump(document, f)
    out = os.path.join(workdir, "parley_client")
    run = subprocess.run(
        ["openapi-python-client", "generate", "--path", spec, "--output-path", out,
         "--meta", "none"],
        capture_output=True, text=True,
    )
    report = run.stdout + run.stderr
    if run.returncode != 0 or re.search(r"WARNING|Error|Unable", report):
        sys.exit(f"api-check: openapi-python-client did not generate cleanly:\n{report}")
    print("api-check: openapi-python-client generated a client with no warnings")

    sys.path.insert(0, workdir)
    client_mod = importlib.import_module("parley_client")
    from parley_client.api.organizations import list_organizations
    from parley_client.api.webhooks import create_webhook
    from parley_client.api.channels import create_channel
    from parley_client.api.flows import create_flow, publish_flow
    from parley_client.api.conversations import create_outcome_status
    from parley_client.api.campaigns import create_campaign, list_campaign_recipients
    from parley_client.models import (
        CreateWebhookRequest, CreateCampaignRequest, AudienceRequest, FilterRequest, FlowDocument,
        CreateOutcomeStatusRequest, SimChannel,
    )

    client = client_mod.AuthenticatedClient(base_url=base, token=token)
    orgs = list_organizations.sync(client=client)
    assert orgs is not None and len(orgs.data) >= 1, orgs
    hook = create_webhook.sync(
        client=client,
        body=CreateWebhookRequest(url="https://receiver.example.com/parley", events=["*"]),
    )
    assert hook is not None and hook.id.startswith("whk_") and hook.secret.startswith("whsec_"), hook
    channel = create_channel.sync(
        client=client,
        body=SimChannel.from_dict({"provider": "sim", "name": "Simulator", "sender": "demo",
                                   "settings": {"delivery_delay_ms": 0}}),
    )
    assert channel is not None and hasattr(channel, "id"), channel.to_dict()
    channel_id = channel.id
    status = create_outcome_status.sync_detailed(
        client=client, body=CreateOutcomeStatusRequest.from_dict({"key": "done", "label": "Done", "category": "positive"}))
    assert status.status_code == 201, status.content
    flow = create_flow.sync(client=client, body=FlowDocument.from_dict({
        "schema": 1, "name": "api check", "start": "hello",
        "steps": {"hello": {"type": "message", "text": "Hello", "next": "bye"},
                  "bye": {"type": "close", "status": "done"}}}))
    assert flow is not None and hasattr(flow, "id") and flow.id.startswith("flow_"), flow.to_dict()
    published = publish_flow.sync_detailed(client=client, id=flow.id)
    assert published.status_code in (200, 201), published.content
    campaign = create_campaign.sync(
        client=client,
        body=CreateCampaignRequest(
            name="API check", flow_id=flow.id, channel_id=channel_id,
            audience=AudienceRequest(filter_=FilterRequest.from_dict({})),
        ),
    )
    assert campaign is not None and campaign.id.startswith("cmp_"), campaign
    recipients = list_campaign_recipients.sync(client=client, id=campaign.id, limit=10)
    assert recipients is not None and recipients.data == [], recipients
    print("api-check: calls through the generated client: organizations, webhook, "
          "channel, flow, campaign, recipients")


def fuzz(base: str, token: str, workdir: str, seconds: int) -> None:
    spec = base + "/api/v1/openapi.json"
    command = [
        "schemathesis", "run", spec, "--url", base,
        "-H", f"Authorization: Bearer {token}",
        "--checks", "not_a_server_error,response_schema_conformance,"
        "content_type_conformance,status_code_conformance",
        "--phases", "examples,coverage,fuzzing",
        "--max-examples", "15", "--max-time", str(seconds), "--workers", "2",
        "--seed", "1",
        # Revoking the run's own key or signing out would end the run's authentication;
        # the event stream never ends by design.
        "--exclude-operation-id", "revoke_api_key",
        "--exclude-operation-id", "sign_out",
        "--exclude-operation-id", "stream_events",
        "--suppress-health-check", "all",
    ]
    run = subprocess.run(command, cwd=workdir)
    if run.returncode != 0:
        sys.exit("api-check: schemathesis found problems (above)")
    print("api-check: schemathesis found nothing")


def check_metrics(base: str) -> None:
    with urllib.request.urlopen(base + "/metrics") as resp:
        text = resp.read()
    run = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True)
    if run.returncode != 0:
        sys.exit("api-check: promtool check metrics failed:\n"
                 + run.stdout.decode() + run.stderr.decode())
    families = text.decode().count("# HELP ")
    print(f"api-check: promtool check metrics: {families} families, all with help")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("binary")
    parser.add_argument("--schemathesis-seconds", type=int, default=240)
    args = parser.parse_args()
    workdir = tempfile.mkdtemp(prefix="parley-api-check-")
    port = free_port()
    proc, key_id, secret = start(os.path.abspath(args.binary), workdir, port)
    base = f"http://127.0.0.1:{port}"
    try:
        token = request(base, "POST", "/api/v1/auth/token", None,
                        {"key_id": key_id, "secret": secret})["token"]
        with urllib.request.urlopen(base + "/api/v1/openapi.json") as resp:
            document = json.loads(resp.read())
        validate(document)
        generate_and_call(document, base, token, workdir)
        fuzz(base, token, workdir, args.schemathesis_seconds)
        check_metrics(base)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


if __name__ == "__main__":
    main()

"""Microsoft's Graph beta SDK (msgraph-beta-sdk, generated from the same metadata as Graph) as
the judge of `oathbulk simulate`, and the CSDL as the judge of oathbulk's own request bodies.

Run by tests/sdk/run.sh (README: "SDK conformance"). Everything stays on 127.0.0.1: the SDK's
base URL is the simulator's, its token a static string.

1. The SDK drives the simulator through every operation oathbulk uses; a call the SDK makes as
   documented must not be refused, and every answer must parse without loss: anything but
   `@odata.*` left in a model's `additional_data` is a field the SDK's model does not know.
2. oathbulk runs import, activate, deactivate, unassign and remove against a simulator started
   with `--record`; every recorded request body must validate against the JSON Schemas
   extracted from the CSDL (tests/sdk/csdl-schemas.json, made by extract_schemas.py from the
   pinned excerpt), and every write must say `Content-Type: application/json` and every
   request `Accept: application/json`.
"""
import asyncio
import base64
import hashlib
import hmac
import json
import os
import pathlib
import struct
import subprocess
import sys
import time

import jsonschema
import pytest
from kiota_abstractions.authentication import (AccessTokenProvider, AllowedHostsValidator,
                                               BaseBearerTokenAuthenticationProvider)
from kiota_abstractions.base_request_configuration import RequestConfiguration
from kiota_abstractions.method import Method
from kiota_abstractions.request_information import RequestInformation
from kiota_abstractions.serialization import Parsable
from msgraph_beta import GraphRequestAdapter, GraphServiceClient
from msgraph_beta.generated.models.hardware_oath_authentication_method import HardwareOathAuthenticationMethod
from msgraph_beta.generated.models.hardware_oath_authentication_method_collection_response import \
    HardwareOathAuthenticationMethodCollectionResponse
from msgraph_beta.generated.models.hardware_oath_authentication_method_configuration import \
    HardwareOathAuthenticationMethodConfiguration
from msgraph_beta.generated.models.hardware_oath_token_authentication_method_device import \
    HardwareOathTokenAuthenticationMethodDevice
from msgraph_beta.generated.models.hardware_oath_token_authentication_method_device_collection_response import \
    HardwareOathTokenAuthenticationMethodDeviceCollectionResponse
from msgraph_beta.generated.models.hardware_oath_token_hash_function import HardwareOathTokenHashFunction
from msgraph_beta.generated.models.hardware_oath_token_status import HardwareOathTokenStatus
from msgraph_beta.generated.models.o_data_errors.o_data_error import ODataError
from msgraph_beta.generated.models.user import User
from msgraph_beta.generated.users.item.authentication.hardware_oath_methods.assign_and_activate.assign_and_activate_post_request_body import \
    AssignAndActivatePostRequestBody
from msgraph_beta.generated.users.item.authentication.hardware_oath_methods.item.activate.activate_post_request_body import \
    ActivatePostRequestBody

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent.parent
BIN = os.environ.get("OATHBULK_BIN") or str(ROOT / "target" / "debug" / "oathbulk")
TOKEN = "eyJ0eXAiOiJKV1QifQ.sdk-conformance.sig"
USERS = 4


def seed(i):
    return base64.b32encode(hashlib.sha1(f"sdk-seed-{i}".encode()).digest()).decode().rstrip("=")


def totp(secret_b32, period=30, at=None):
    key = base64.b32decode(secret_b32 + "=" * (-len(secret_b32) % 8))
    counter = int((at if at is not None else time.time()) // period)
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset:offset + 4])[0] & 0x7FFFFFFF
    return f"{value % 1_000_000:06d}"


def write_csv(path, n, states, rows=None):
    """Rows `rows` (default 0..n) of one deterministic token set; `states(i)` their sim_state."""
    lines = ["upn,serial number,secret key,time interval,manufacturer,model,sim_state"]
    for i in rows if rows is not None else range(n):
        lines.append(f"user{i % USERS}@contoso.com,SDK{i:04},{seed(i)},30,Acme,T1,{states(i)}")
    path.write_text("\n".join(lines) + "\n")


class Simulator:
    """`oathbulk simulate` on 127.0.0.1:0; stops when its stdin closes."""

    def __init__(self, csv, *extra):
        self.proc = subprocess.Popen(
            [BIN, "simulate", "--csv", str(csv), "--quiet", "--listen", "127.0.0.1:0", *extra],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        ready = json.loads(self.proc.stdout.readline())
        self.graph_url = ready["graph_url"]
        self.state_url = ready["graph_url"].rsplit("/graph/", 1)[0] + "/_sim/state"

    def stop(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=10)


class StaticToken(AccessTokenProvider):
    async def get_authorization_token(self, uri, additional_authentication_context=None):
        return TOKEN

    def get_allowed_hosts_validator(self):
        return AllowedHostsValidator(["127.0.0.1"])


def sdk_client(graph_url):
    adapter = GraphRequestAdapter(BaseBearerTokenAuthenticationProvider(StaticToken()))
    adapter.base_url = graph_url
    return GraphServiceClient(request_adapter=adapter)


def lost_fields(model, where="answer", allowed=()):
    """Every key a parsed model (or any model inside it) kept in `additional_data` that is not
    an `@odata.*` annotation (nor named in `allowed`): a field the SDK's model does not declare."""
    lost = []
    if isinstance(model, list):
        for i, item in enumerate(model):
            lost += lost_fields(item, f"{where}[{i}]", allowed)
        return lost
    if not isinstance(model, Parsable):
        return lost
    for key in getattr(model, "additional_data", {}) or {}:
        if not key.startswith("@odata.") and key not in allowed:
            lost.append(f"{where}.{key}")
    for name, value in vars(model).items():
        if name not in ("additional_data", "backing_store") and isinstance(value, (Parsable, list)):
            lost += lost_fields(value, f"{where}.{name}", allowed)
    return lost


# One loop for the whole module: the SDK's HTTP client stays bound to the loop it first ran on.
LOOP = asyncio.new_event_loop()


def run(coro):
    return LOOP.run_until_complete(asyncio.wait_for(coro, 30))


@pytest.fixture(scope="module")
def tenant(tmp_path_factory):
    d = tmp_path_factory.mktemp("sdk")
    csv = d / "tokens.csv"
    # Rows 0-5 available, 6-9 assigned to their user (the default device-id = method-id).
    write_csv(csv, 10, lambda i: "available" if i < 6 else "assigned")
    sim = Simulator(csv, "--page-size-max", "3", "--record", str(d / "sdk-requests.jsonl"))
    sim.record = d / "sdk-requests.jsonl"
    yield sim
    sim.stop()


def devices_builder(client):
    return client.directory.authentication_method_devices.hardware_oath_devices


def test_list_is_paged_expanded_and_lossless(tenant):
    client = sdk_client(tenant.graph_url)
    config = RequestConfiguration(query_parameters=devices_builder(client).HardwareOathDevicesRequestBuilderGetQueryParameters(
        top=999, expand=["assignTo($select=id,userPrincipalName)"]))

    async def all_pages():
        page = await devices_builder(client).get(request_configuration=config)
        pages = [page]
        while page.odata_next_link:
            page = await devices_builder(client).with_url(page.odata_next_link).get()
            pages.append(page)
        return pages

    pages = run(all_pages())
    assert len(pages) >= 4, "3 a page (--page-size-max 3) over 10 devices: the SDK must follow nextLink"
    devices = [d for p in pages for d in p.value]
    assert lost_fields(pages) == []
    assert sorted(d.serial_number for d in devices) == [f"SDK{i:04}" for i in range(10)]
    held = [d for d in devices if d.status == HardwareOathTokenStatus.Assigned]
    assert len(held) == 4
    for d in held:
        assert isinstance(d.assign_to, User) and d.assign_to.user_principal_name.endswith("@contoso.com")
        assert d.assigned_to.id == d.assign_to.id
    assert all(d.hash_function == HardwareOathTokenHashFunction.Hmacsha1 for d in devices)
    assert all(d.time_interval_in_seconds == 30 for d in devices)


def test_filter_by_serial_and_get_one(tenant):
    client = sdk_client(tenant.graph_url)
    q = devices_builder(client).HardwareOathDevicesRequestBuilderGetQueryParameters(
        filter="serialNumber eq 'SDK0003'")
    page = run(devices_builder(client).get(request_configuration=RequestConfiguration(query_parameters=q)))
    assert lost_fields(page) == []
    assert [d.serial_number for d in page.value] == ["SDK0003"]
    one = run(devices_builder(client).by_hardware_oath_token_authentication_method_device_id(page.value[0].id).get())
    assert lost_fields(one) == []
    assert one.serial_number == "SDK0003" and one.manufacturer == "Acme" and one.model == "T1"


def find(client, serial):
    q = devices_builder(client).HardwareOathDevicesRequestBuilderGetQueryParameters(filter=f"serialNumber eq '{serial}'")
    page = run(devices_builder(client).get(request_configuration=RequestConfiguration(query_parameters=q)))
    return page.value[0]


def methods(client, upn):
    return client.users.by_user_id(upn).authentication.hardware_oath_methods


def test_assign_activate_deactivate_unassign_delete(tenant):
    client = sdk_client(tenant.graph_url)
    device = find(client, "SDK0001")
    upn = "user1@contoso.com"
    body = HardwareOathAuthenticationMethod(device=HardwareOathTokenAuthenticationMethodDevice(id=device.id))
    method = run(methods(client, upn).post(body))
    assert lost_fields(method) == []
    assert method.id
    listed = run(methods(client, upn).get(request_configuration=RequestConfiguration(
        query_parameters=methods(client, upn).HardwareOathMethodsRequestBuilderGetQueryParameters(expand=["device"]))))
    assert lost_fields(listed) == []
    assert device.id in [m.device.id for m in listed.value]
    item = methods(client, upn).by_hardware_oath_authentication_method_id(method.id)
    run(item.activate.post(ActivatePostRequestBody(verification_code=totp(seed(1)), display_name="SDK token")))
    assert find(client, "SDK0001").status == HardwareOathTokenStatus.Activated
    run(item.deactivate.post())
    assert find(client, "SDK0001").status == HardwareOathTokenStatus.Assigned
    run(item.delete())
    assert find(client, "SDK0001").status == HardwareOathTokenStatus.Available
    run(devices_builder(client).by_hardware_oath_token_authentication_method_device_id(device.id).delete())
    q = devices_builder(client).HardwareOathDevicesRequestBuilderGetQueryParameters(filter="serialNumber eq 'SDK0001'")
    assert run(devices_builder(client).get(request_configuration=RequestConfiguration(query_parameters=q))).value == []


def test_assign_and_activate(tenant):
    client = sdk_client(tenant.graph_url)
    device = find(client, "SDK0002")
    body = AssignAndActivatePostRequestBody(
        device=HardwareOathTokenAuthenticationMethodDevice(id=device.id), verification_code=totp(seed(2)),
        display_name="SDK token")
    run(methods(client, "user2@contoso.com").assign_and_activate.post(body))
    after = find(client, "SDK0002")
    assert after.status == HardwareOathTokenStatus.Activated
    assert after.assign_to is None or after.assign_to.user_principal_name == "user2@contoso.com"


def new_device(serial, **over):
    fields = dict(serial_number=serial, manufacturer="Contoso", model="K1", secret_key=seed(100),
                  time_interval_in_seconds=30, hash_function=HardwareOathTokenHashFunction.Hmacsha1)
    fields.update(over)
    return HardwareOathTokenAuthenticationMethodDevice(**fields)


def test_create_one(tenant):
    client = sdk_client(tenant.graph_url)
    created = run(devices_builder(client).post(new_device("SDK-NEW-1", display_name="new one")))
    assert lost_fields(created) == []
    assert created.serial_number == "SDK-NEW-1" and created.status == HardwareOathTokenStatus.Available
    assert created.secret_key is None, "the service never returns the secret"


def bulk_create(graph_url, prefix, answer_type):
    """The update page's example and Microsoft's Python snippet: POST of the delta body to the
    collection (the SDK has no PATCH there); the answer read as a collection of `answer_type`."""
    client = sdk_client(graph_url)
    items = [{"@contentId": str(i + 1), "serialNumber": f"{prefix}{i}", "manufacturer": "Contoso", "model": "K1",
              "secretKey": seed(200 + i), "timeIntervalInSeconds": 30, "hashFunction": "hmacsha1"} for i in range(3)]
    body = HardwareOathTokenAuthenticationMethodDevice(additional_data={"@context": "#$delta", "value": items})
    builder = devices_builder(client)
    info = builder.to_post_request_information(body)
    return run(builder.request_adapter.send_async(info, answer_type, {"XXX": ODataError}))


def test_bulk_create_older_answer(tenant):
    """The older answer: flat devices, each echoing its `@contentId` (an OData instance
    annotation of the delta payload, which no model declares; every other key must parse)."""
    answer = bulk_create(tenant.graph_url, "SDK-BULK-", HardwareOathTokenAuthenticationMethodDeviceCollectionResponse)
    assert lost_fields(answer, allowed=("@contentId",)) == []
    assert sorted(d.serial_number for d in answer.value) == [f"SDK-BULK-{i}" for i in range(3)]


def test_bulk_create_documented_answer(tmp_path):
    """The update page's answer: 201, methods each with its device nested, no `@contentId`."""
    csv = tmp_path / "one.csv"
    write_csv(csv, 1, lambda i: "available")
    sim = Simulator(csv, "--documented-bulk-answer")
    try:
        answer = bulk_create(sim.graph_url, "SDK-DOC-", HardwareOathAuthenticationMethodCollectionResponse)
    finally:
        sim.stop()
    assert lost_fields(answer) == []
    assert sorted(m.device.serial_number for m in answer.value) == [f"SDK-DOC-{i}" for i in range(3)]


def test_users_filter_in(tenant):
    client = sdk_client(tenant.graph_url)
    q = client.users.UsersRequestBuilderGetQueryParameters(
        filter="userPrincipalName in ('user0@contoso.com','nobody@contoso.com','USER3@contoso.com')",
        select=["id", "userPrincipalName"])
    page = run(client.users.get(request_configuration=RequestConfiguration(query_parameters=q)))
    assert lost_fields(page) == []
    assert sorted(u.user_principal_name.lower() for u in page.value) == ["user0@contoso.com", "user3@contoso.com"]


def test_users_filter_eq(tenant):
    client = sdk_client(tenant.graph_url)
    q = client.users.UsersRequestBuilderGetQueryParameters(filter="userPrincipalName eq 'user1@contoso.com'")
    page = run(client.users.get(request_configuration=RequestConfiguration(query_parameters=q)))
    assert [u.user_principal_name for u in page.value] == ["user1@contoso.com"]


def test_policy_get(tenant):
    client = sdk_client(tenant.graph_url)
    configs = client.policies.authentication_methods_policy.authentication_method_configurations
    policy = run(configs.by_authentication_method_configuration_id("hardwareOath").get())
    assert isinstance(policy, HardwareOathAuthenticationMethodConfiguration)
    assert lost_fields(policy) == []
    assert policy.state.value == "enabled"


def test_refused_as_the_csdl_refuses(tenant):
    """The simulator must refuse what the CSDL refuses: a hash outside the enum, a create
    without a non-nullable property, a status filter in the wrong case."""
    client = sdk_client(tenant.graph_url)
    bad = HardwareOathTokenAuthenticationMethodDevice(
        serial_number="SDK-BAD-1", manufacturer="Contoso", model="K1", secret_key=seed(300),
        time_interval_in_seconds=30, additional_data={"hashFunction": "HMACSHA256"})
    with pytest.raises(ODataError) as e:
        run(devices_builder(client).post(bad))
    assert e.value.response_status_code == 400
    no_model = HardwareOathTokenAuthenticationMethodDevice(
        serial_number="SDK-BAD-2", manufacturer="Contoso", secret_key=seed(301), time_interval_in_seconds=30)
    with pytest.raises(ODataError) as e:
        run(devices_builder(client).post(no_model))
    assert e.value.response_status_code == 400
    q = devices_builder(client).HardwareOathDevicesRequestBuilderGetQueryParameters(filter="status eq 'ACTIVATED'")
    with pytest.raises(ODataError) as e:
        run(devices_builder(client).get(request_configuration=RequestConfiguration(query_parameters=q)))
    assert e.value.response_status_code == 400


# ── oathbulk's own requests, recorded by the simulator, against the CSDL's schemas ─────────

SCHEMAS = json.loads((HERE / "csdl-schemas.json").read_text())
DEVICES = "/directory/authenticationMethodDevices/hardwareOathDevices"


def schema_for(method, path, body):
    """The CSDL schema a recorded request's body must meet (None: it must have no body)."""
    parts = path.strip("/").split("/")
    if method in ("GET", "DELETE"):
        return None
    if path == DEVICES:
        return "delta:hardwareOathTokenAuthenticationMethodDevice" if "value" in (body or {}) \
            else "create:hardwareOathTokenAuthenticationMethodDevice"
    if parts[0] == "users" and parts[2:4] == ["authentication", "hardwareOathMethods"]:
        tail = parts[4:]
        if tail == []:
            return "create:hardwareOathAuthenticationMethod"
        if tail == ["assignAndActivate"]:
            return "action:assignAndActivate"
        if len(tail) == 2 and tail[1] == "activate":
            return "action:activate"
        if len(tail) == 2 and tail[1] == "deactivate":
            return "action:deactivate"
    raise AssertionError(f"a write oathbulk is not known to send: {method} {path}")


def validate(entry):
    name = schema_for(entry["method"], entry["path"], entry["body"])
    no_parameters = name is not None and name.startswith("action:") and not SCHEMAS["$defs"][name]["properties"]
    if name is None or no_parameters:
        assert entry["body"] in (None, {}), f"{entry['method']} {entry['path']} carries a body"
        return name
    schema = {"$ref": f"#/$defs/{name}", "$defs": SCHEMAS["$defs"]}
    jsonschema.validate(entry["body"], schema, format_checker=jsonschema.FormatChecker())
    return name


def oathbulk(*args, cwd):
    env = dict(os.environ, OATHBULK_TOKEN=TOKEN)
    env.pop("OATHBULK_CLIENT_SECRET", None)
    return subprocess.run([BIN, *args, "--max-rate", "500", "--progress", "none"], cwd=cwd, env=env,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    """oathbulk's requests for import --assign (a bulk create naming the holders; an existing
    token's assign), activate (activate of assigned tokens, assignAndActivate of available
    ones), deactivate, unassign and remove, as the simulator recorded them."""
    d = tmp_path_factory.mktemp("record")
    seeded, to_assign, new = d / "seeded.csv", d / "to-assign.csv", d / "new.csv"
    # 0-2 assigned (activate), 3-5 available (import --assign, then activate), 6-8 available
    # (assignAndActivate).
    write_csv(seeded, 9, lambda i: "assigned" if i < 3 else "available")
    write_csv(to_assign, 0, lambda i: "available", rows=range(3, 6))
    write_csv(new, 4, lambda i: "available")
    new.write_text(new.read_text().replace("SDK0", "NEW0"))
    record = d / "requests.jsonl"
    sim = Simulator(seeded, "--record", str(record), "--distinct-method-ids")
    try:
        g = ["--backend", "graph", "--graph-url", sim.graph_url]
        runs = [
            oathbulk("import", str(new), "--assign", *g, cwd=d),
            oathbulk("import", str(to_assign), "--assign", *g, cwd=d),
            oathbulk("activate", str(seeded), *g, cwd=d),
            oathbulk("deactivate", str(seeded), *g, cwd=d),
            oathbulk("unassign", str(seeded), *g, cwd=d),
            oathbulk("remove", str(new), *g, cwd=d),
        ]
    finally:
        sim.stop()
    entries = [json.loads(line) for line in record.read_text().splitlines()]
    return runs, entries, record.read_text()


def test_oathbulk_runs_succeeded(recorded):
    runs, _, _ = recorded
    for r in runs:
        assert r.returncode == 0, f"{r.args[1]} exit {r.returncode}: {r.stderr[-2000:]}"


def test_oathbulk_request_bodies_meet_the_csdl(recorded):
    _, entries, _ = recorded
    used = {validate(e) for e in entries}
    # Every kind of write ran (else the validation above proved less than it says).
    for name in ("action:activate", "action:assignAndActivate", "action:deactivate",
                 "create:hardwareOathAuthenticationMethod"):
        assert name in used, f"no {name} request was recorded"
    assert used & {"delta:hardwareOathTokenAuthenticationMethodDevice",
                   "create:hardwareOathTokenAuthenticationMethodDevice"}, "import sent no create"


def test_oathbulk_headers(recorded):
    _, entries, text = recorded
    for e in entries:
        assert e["accept"] and "application/json" in e["accept"], f"{e['method']} {e['path']}: Accept {e['accept']}"
        if e["body"] is not None:
            assert (e["content_type"] or "").startswith("application/json"), \
                f"{e['method']} {e['path']}: Content-Type {e['content_type']}"
    assert TOKEN not in text, "the record holds the bearer token"
    assert seed(0) not in text and "secretKey\": \"<redacted>" in text.replace("\":\"", "\": \""), \
        "the record must redact every secretKey"


def test_the_schemas_refuse_what_the_csdl_refuses():
    """The judge itself: bodies a faulty client could send fail validation."""
    good = {"serialNumber": "A", "manufacturer": "m", "model": "x", "secretKey": "<redacted>",
            "timeIntervalInSeconds": 30, "hashFunction": "hmacsha1"}
    create = {"method": "POST", "path": DEVICES, "body": good}
    assert validate(create) == "create:hardwareOathTokenAuthenticationMethodDevice"
    bad_creates = [dict(good, hashFunction="sha1"), {k: v for k, v in good.items() if k != "model"},
                   dict(good, timeIntervalInSeconds="30"), dict(good, unknownProperty=1),
                   {"value": [dict(good, hashFunction="SHA1")]}]
    for body in bad_creates:
        with pytest.raises(jsonschema.ValidationError):
            validate(dict(create, body=body))
    method = "/users/u@contoso.com/authentication/hardwareOathMethods/m1"
    with pytest.raises(jsonschema.ValidationError):
        validate({"method": "POST", "path": f"{method}/activate", "body": {"verificationCode": 123456}})
    with pytest.raises(AssertionError):
        validate({"method": "POST", "path": f"{method}/deactivate", "body": {"displayName": "x"}})


def template(path):
    """A request path with its keys replaced: `/users/{user}/…/hardwareOathMethods/{method}/activate`."""
    parts = path.strip("/").split("/")
    if parts[0] == "users" and len(parts) > 1:
        parts[1] = "{user}"
        if parts[2:4] == ["authentication", "hardwareOathMethods"] and len(parts) > 4 \
                and parts[4] not in ("assignAndActivate", "assignAndActivateBySerialNumber"):
            parts[4] = "{method}"
    if parts[:3] == ["directory", "authenticationMethodDevices", "hardwareOathDevices"] and len(parts) > 3:
        parts[3] = "{device}"
    return "/" + "/".join(parts)


def shapes(entries):
    """(verb, path template) → the query option names its requests used."""
    out = {}
    for e in entries:
        names = {pair.split("=", 1)[0] for pair in (e["query"] or "").split("&") if pair}
        out.setdefault((e["method"], template(e["path"])), set()).update(names)
    return out


def test_oathbulk_sends_only_requests_the_sdk_sends(tenant, recorded):
    """Every request oathbulk sent (verb, path with its keys replaced) is one the SDK sent
    through its generated request builders, with query options the SDK used there too (the
    `$` names encoded alike). One exception, named: bulk create's first try, PATCH of the
    collection, the update page's "HTTP request" line, which the SDK lacks (its POST is next)."""
    _, entries, _ = recorded
    sdk = shapes(json.loads(line) for line in tenant.record.read_text().splitlines())
    ours = shapes(entries)
    documented_only = {("PATCH", DEVICES)}
    unknown = sorted(k for k in ours if k not in sdk and k not in documented_only)
    assert unknown == [], f"requests the SDK never makes: {unknown}\nthe SDK's: {sorted(sdk)}"
    for key, names in ours.items():
        if key in sdk:
            assert names <= sdk[key], f"{key}: query options {sorted(names - sdk[key])} the SDK never sends"

#!/usr/bin/env python3
"""Loket's Open311 GeoReport v2 server, driven by real Open311 clients from PyPI.

    python3 tests/open311/client_test.py <base_url> <api_key> [jurisdiction_id]

base_url is the endpoint, e.g. http://127.0.0.1:8080/open311/v2. The Rust test
`open311::python_open311_client` starts a server and runs this script.

Two clients, because neither does everything on its own:
- civicbot (Open311Client): JSON; lists services, reads a definition, posts a request
  (form-encoded, with the api_key) and reads it back by id, in a list and by token.
- georeport (GeoReport): XML; lists services and reads the request back. It cannot post.

The last line printed is `service_request_id=<id>` for the Rust side to check.
"""
import sys

import georeport
from civicbot.http import HttpError, HttpTransport, RateLimiter
from civicbot.open311 import Open311Client
from civicbot.registry import Endpoint

SERVICE = "openbare-ruimte.bestrating"
# Domplein, Utrecht (GM0344).
LAT, LNG = 52.0907, 5.1214


def check(cond, what):
    if not cond:
        raise SystemExit(f"FAILED: {what}")
    print(f"ok - {what}")


def main():
    if len(sys.argv) < 3:
        raise SystemExit(__doc__)
    base, api_key = sys.argv[1].rstrip("/"), sys.argv[2]
    jurisdiction = sys.argv[3] if len(sys.argv) > 3 else "GM0344"

    endpoint = Endpoint(id="loket", name="Loket", base_url=base, write=True)
    transport = HttpTransport(rate_limiter=RateLimiter(min_interval=0.0))
    client = Open311Client(endpoint, transport, jurisdiction_id=jurisdiction)

    # 1. Services (JSON) and a service definition.
    services = client.list_services()
    codes = [s["service_code"] for s in services]
    check(SERVICE in codes, f"civicbot lists {len(codes)} services, {SERVICE} among them")
    check(all(s["type"] == "realtime" for s in services), "every service is realtime")
    definition = client.get_service_definition(SERVICE)
    check(definition["service_code"] == SERVICE, "civicbot reads the service definition")

    # 2. Post a request: validated against the live service list, then sent.
    prepared = client.create_request(
        SERVICE,
        dry_run=False,
        confirm="SEND",
        api_key=api_key,
        validate_remote=True,
        lat=LAT,
        lng=LNG,
        description="Losse stoeptegel op het Domplein, gemeld via een Open311-app",
        first_name="Open311",
        last_name="Test",
        email="open311-test@example.nl",
    )
    created = prepared.response
    check(isinstance(created, list) and len(created) == 1, "civicbot posted one request")
    rid = str(created[0]["service_request_id"])
    token = created[0].get("token")
    check(rid.isdigit(), f"the server returned service_request_id {rid}")

    # 3. Read it back: by id, in the list, by token.
    req = client.get_request(rid)
    check(str(req["service_request_id"]) == rid, "civicbot reads the request back by id")
    check(req["service_code"] == SERVICE and req["status"] == "open", "open, with its service")
    check(abs(float(req["lat"]) - LAT) < 1e-6 and abs(float(req["long"]) - LNG) < 1e-6, "at its coordinates")
    check("example.nl" not in str(req), "no contact details on the public API")
    listed = client.list_requests(status="open", service_code=SERVICE)
    check(rid in [str(r["service_request_id"]) for r in listed], "the request is in GET requests?status=open")
    if token:
        mapped = client.get_token(token)
        check(str(mapped[0]["service_request_id"]) == rid, "tokens/{token} gives the request id")

    # 4. A wrong key is refused with 403 and the spec's error body.
    try:
        client.create_request(SERVICE, dry_run=False, confirm="SEND", api_key="wrong-key", lat=LAT, lng=LNG)
        check(False, "a wrong api_key is refused")
    except HttpError as e:
        check(e.status == 403 and '"code":403' in e.body.replace(" ", ""), "a wrong api_key gets 403 with an error list")

    # 5. The same through georeport, in XML.
    geo = georeport.GeoReport(base, jurisdiction=jurisdiction, output_format="xml")
    xml_services = geo.get_service_list()
    check(SERVICE in [s["service_code"] for s in xml_services], "georeport lists the services in XML")
    xml_def = geo.get_service_definition(SERVICE)
    check(xml_def["service_code"] == SERVICE, "georeport reads the definition in XML")
    xml_req = geo.get_service_request(rid)
    check(xml_req["service_request_id"] == rid and xml_req["status"] == "open", "georeport reads the request back in XML")
    xml_list = geo.get_service_requests(service_request_id=rid)
    xml_list = xml_list if isinstance(xml_list, list) else [xml_list]
    check([r["service_request_id"] for r in xml_list] == [rid], "georeport finds it with service_request_id=")
    geo_json = georeport.GeoReport(base, jurisdiction=jurisdiction)
    check(str(geo_json.get_service_request(rid)["service_request_id"]) == rid, "georeport reads it back in JSON")

    print(f"service_request_id={rid}")


if __name__ == "__main__":
    main()

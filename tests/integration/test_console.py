"""The baresip console keeps working with our commands: /lines, /calls,
/ring and /events, typed on the service's stdin (baresip's stdio UI)."""


def type_command(service, line):
    """Type a console command; returns the log offset before it."""
    since = service.log_size()
    service.proc.stdin.write(line.encode() + b"\n")
    service.proc.stdin.flush()
    return since


def test_console_commands(service, phone):
    since = type_command(service, "/lines")
    service.wait_log(r"^100\s+registered\s+idle\s+sip:100-0x", since=since)

    since = type_command(service, "/calls")
    service.wait_log(r"no calls yet", since=since)

    # /ring is POST /api/v1/calls for a person at the console
    since = type_command(service, "/ring 100")
    match = service.wait_log(r"ringing line 100: (call_[0-9a-f]+)",
                             since=since)
    call = match.group(1)
    phone.wait_event("CALL_ESTABLISHED", timeout=10)
    status, _, body = service.api("GET", "/api/v1/calls/%s" % call)
    assert status == 200 and body["direction"] == "to_phone"

    since = type_command(service, "/calls")
    service.wait_log(r"%s\s+line 100\s+to_phone\s+active" % call,
                     since=since)

    since = type_command(service, "/ring 999")
    service.wait_log(r"cannot ring: no line 999", since=since)

    since = type_command(service, "/events 1")
    service.wait_log(r'\[\{"id":"evt_[0-9a-f]+","seq":\d+,"type":"call\.',
                     since=since)

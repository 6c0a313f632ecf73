"""Hand-build pidbox request envelopes (kombu 5.2 wire format) and decode
envelopes, for tests that inject messages with redis-cli.

  pidbox_msg.py request [options]   print one envelope (one line)
  pidbox_msg.py decode              envelopes on stdin (one per line) ->
                                    {"headers": ..., "body": ...} lines

request options (defaults build a well-formed ping cast for namespace pidbox):
  --ns NS --method M --args JSON --dest a,b --pattern P --matcher M
  --ticket T --oid OID (adds reply_to {reply.NS.pidbox, OID})
  --reply-exchange X (reply_to exchange instead of reply.NS.pidbox)
  --expires-in S (now + S; may be negative) | --expires F (absolute)
  --clock JSON (the clock header value, default 1)
  --body TEXT (exact body text instead of the built request body)
  --ctype CT (content-type) --no-b64 (body not base64, no body_encoding)
  --no-delivery-tag
"""
import argparse
import base64
import json
import sys
import time
import uuid


def request(argv):
    p = argparse.ArgumentParser(prog="pidbox_msg.py request")
    p.add_argument("--ns", default="pidbox")
    p.add_argument("--method", default="ping")
    p.add_argument("--args", default="{}")
    p.add_argument("--dest")
    p.add_argument("--pattern")
    p.add_argument("--matcher")
    p.add_argument("--ticket")
    p.add_argument("--oid")
    p.add_argument("--reply-exchange")
    p.add_argument("--expires-in", type=float)
    p.add_argument("--expires", type=float)
    p.add_argument("--clock", default="1")
    p.add_argument("--body")
    p.add_argument("--ctype", default="application/json")
    p.add_argument("--no-b64", action="store_true")
    p.add_argument("--no-delivery-tag", action="store_true")
    a = p.parse_args(argv)

    if a.body is not None:
        body = a.body
    else:
        b = {"method": a.method, "arguments": json.loads(a.args),
             "destination": a.dest.split(",") if a.dest else None,
             "pattern": a.pattern, "matcher": a.matcher}
        if a.oid:
            b["ticket"] = a.ticket or str(uuid.uuid4())
            b["reply_to"] = {
                "exchange": a.reply_exchange or "reply.%s.pidbox" % a.ns,
                "routing_key": a.oid}
        body = json.dumps(b)
    if a.expires is not None:
        expires = a.expires
    elif a.expires_in is not None:
        expires = time.time() + a.expires_in
    else:
        expires = 0
    props = {"delivery_mode": 2,
             "delivery_info": {"exchange": "%s.pidbox" % a.ns,
                               "routing_key": ""},
             "priority": 0}
    if a.no_b64:
        payload = body
    else:
        payload = base64.b64encode(body.encode()).decode()
        props["body_encoding"] = "base64"
    if not a.no_delivery_tag:
        props["delivery_tag"] = str(uuid.uuid4())
    env = {"body": payload, "content-encoding": "utf-8",
           "content-type": a.ctype,
           "headers": {"clock": json.loads(a.clock), "expires": expires},
           "properties": props}
    print(json.dumps(env))


def decode():
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        env = json.loads(line)
        body = env["body"]
        if env.get("properties", {}).get("body_encoding") == "base64":
            body = base64.b64decode(body).decode()
        print(json.dumps({"headers": env.get("headers"),
                          "body": json.loads(body)}))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "request":
        request(sys.argv[2:])
    elif len(sys.argv) > 1 and sys.argv[1] == "decode":
        decode()
    else:
        sys.exit(__doc__)

#!/usr/bin/env python3
"""The baseline `otp` is compared with: the same CSV through pyotp, one JSON line per row.

usage: pyotp_loop.py FILE.csv UNIX_TIME > /dev/null
"""
import csv
import hashlib
import json
import sys

import pyotp


def main() -> None:
    path, at = sys.argv[1], int(sys.argv[2])
    out = sys.stdout
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.reader(f)
        next(reader)
        for line, (upn, serial, secret, interval, _m, _model, hash_) in enumerate(reader, start=2):
            digest = hashlib.sha256 if hash_ == "sha256" else hashlib.sha1
            totp = pyotp.TOTP(secret, interval=int(interval), digest=digest)
            out.write(json.dumps({"type": "otp", "line": line, "upn": upn, "serial": serial, "code": totp.at(at)}))
            out.write("\n")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Write a vendor CSV with N rows of random (seeded) tokens, fast: benches only, not tests.

usage: gen_csv.py ROWS OUT.csv [SEED]
Mix: 2/3 30-second and 1/3 60-second tokens, 1 in 8 SHA-256, 160-bit seeds, ~80 bytes a row.
"""
import base64
import random
import sys


def main() -> None:
    rows, out = int(sys.argv[1]), sys.argv[2]
    rng = random.Random(int(sys.argv[3]) if len(sys.argv) > 3 else 42)
    b32 = base64.b32encode
    with open(out, "w", newline="", encoding="ascii") as f:
        f.write("upn,serial number,secret key,time interval,manufacturer,model,hash\n")
        chunk = []
        for i in range(rows):
            secret = b32(rng.randbytes(20)).decode()
            interval = 60 if i % 3 == 0 else 30
            hash_ = "sha256" if i % 8 == 0 else "sha1"
            chunk.append(f"user{i % 250000}@contoso.com,SN{i:09d},{secret},{interval},Contoso,OTP-C200,{hash_}\n")
            if len(chunk) == 20000:
                f.write("".join(chunk))
                chunk.clear()
        f.write("".join(chunk))


if __name__ == "__main__":
    main()

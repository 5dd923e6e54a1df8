"""Write PSKC files with python-pskc (an implementation independent of oathbulk's), for
tests/pskc_files.rs: random TOTP seeds, each file plain, under a pre-shared AES key, or under
a password (PBKDF2). One process writes them all.

Usage: write_files.py OUT_DIR COUNT [AT]

OUT_DIR/manifest.tsv: one line per key: file, protection, key (hex) or password, serial,
SHA-256 of the seed (hex), time interval, hash, and the TOTP code at unix time AT computed
here with the standard library (so oathbulk's codes are checked without a seed printed).
"""

import hashlib
import hmac
import os
import random
import struct
import sys

import pskc

TOTP = 'urn:ietf:params:xml:ns:keyprov:pskc:totp'


def totp(seed, at, step, digest):
    counter = struct.pack('>Q', at // step)
    mac = hmac.new(seed, counter, digest).digest()
    offset = mac[-1] & 0x0F
    value = struct.unpack('>I', mac[offset:offset + 4])[0] & 0x7FFFFFFF
    return '%06d' % (value % 1000000)


def main():
    out, count = sys.argv[1], int(sys.argv[2])
    at = int(sys.argv[3]) if len(sys.argv) > 3 else 1700000000
    rng = random.SystemRandom()
    lines = []
    for i in range(count):
        protection = ('plain', 'preshared', 'password')[i % 3]
        container = pskc.PSKC()
        for k in range(1 + i % 3):
            seed = os.urandom(rng.choice((10, 16, 20, 32)))
            step = rng.choice((30, 60))
            sha256 = rng.random() < 0.5
            serial = 'PY%05d-%d' % (i, k)
            key = container.add_key(
                id='k%d-%d' % (i, k), secret=seed, serial=serial, manufacturer='Acme',
                model='PY-%d' % step, algorithm=TOTP, response_length=6, time_interval=step)
            if sha256:
                key.algorithm_suite = 'HMAC-SHA256'
            digest = hashlib.sha256 if sha256 else hashlib.sha1
            lines.append((i, protection, serial, hashlib.sha256(seed).hexdigest(), step,
                          'sha256' if sha256 else 'sha1', totp(seed, at, step, digest)))
        if protection == 'preshared':
            secret = os.urandom(rng.choice((16, 32)))
            container.encryption.setup_preshared_key(
                key=secret, algorithm='aes%d-cbc' % (len(secret) * 8))
            opener = secret.hex()
        elif protection == 'password':
            opener = 'pw-%d-%s' % (i, os.urandom(6).hex())
            container.encryption.setup_pbkdf2(opener, iterations=rng.randint(1000, 3000))
        else:
            opener = '-'
        container.write(os.path.join(out, 'f%05d.pskcxml' % i))
        lines[:] = [l if not isinstance(l[0], int) or l[0] != i else
                    ('f%05d.pskcxml' % i, l[1], opener) + l[2:] for l in lines]
    with open(os.path.join(out, 'manifest.tsv'), 'w') as f:
        for line in lines:
            f.write('\t'.join(str(x) for x in line) + '\n')


if __name__ == '__main__':
    main()

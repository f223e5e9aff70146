#!/usr/bin/env python3
"""make_csrs.py DIR COUNT PREFIX: COUNT fresh P-256 CSRs, DIR/PREFIX-NNNN.csr (PEM),
subject /C=DE/O=Bench/CN=PREFIX NNNN CA. For make bench: many requests, fast."""
import os
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

out, count, prefix = sys.argv[1], int(sys.argv[2]), sys.argv[3]
os.makedirs(out, exist_ok=True)
for i in range(1, count + 1):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "DE"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Bench"),
        x509.NameAttribute(NameOID.COMMON_NAME, f"{prefix} {i:04d} CA"),
    ])
    csr = x509.CertificateSigningRequestBuilder().subject_name(name).sign(key, hashes.SHA256())
    with open(os.path.join(out, f"{prefix}-{i:04d}.csr"), "wb") as f:
        f.write(csr.public_bytes(serialization.Encoding.PEM))

"""The local certificate authority `infra/` makes for the Kafka brokers' TLS: one CA per profile,
and a certificate for the brokers (CN=broker, for 127.0.0.1 and localhost) that they present to
clients and to each other (the inter-broker and controller listeners ask for it: mutual TLS).
Files are PEM, private keys readable by their owner only; made once and kept."""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Sequence
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

VALID_DAYS = 3650


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [x509.NameAttribute(NameOID.ORGANIZATION_NAME, "MotCua"), x509.NameAttribute(NameOID.COMMON_NAME, common_name)]
    )


def _write_private(path: Path, data: bytes) -> None:
    path.touch(mode=0o600)
    path.write_bytes(data)


def _pem_key(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


class LocalCA:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.cert_file = folder / "ca.pem"
        self.key_file = folder / "ca-key.pem"

    def ensure(self) -> LocalCA:
        if self.cert_file.exists() and self.key_file.exists():
            return self
        self.folder.mkdir(parents=True, exist_ok=True)
        key = _key()
        now = dt.datetime.now(dt.UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(_name("MotCua local CA"))
            .issuer_name(_name("MotCua local CA"))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=VALID_DAYS))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
            )  # keyCertSign, cRLSign
            .sign(key, hashes.SHA256())
        )
        _write_private(self.key_file, _pem_key(key))
        self.cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        return self

    def issue(self, common_name: str, path: Path, hosts: Sequence[str] = ()) -> Path:
        """A key and certificate for `common_name` on loopback and on `hosts` (names a client reaches
        it by, such as `kafka` in docker-compose.yml), in one PEM file (key first, then the certificate
        and the CA's), as Kafka's PEM keystore reads it. Kept when it already exists."""
        if path.exists():
            return path
        ca_key = serialization.load_pem_private_key(self.key_file.read_bytes(), password=None)
        ca_cert = x509.load_pem_x509_certificate(self.cert_file.read_bytes())
        key = _key()
        now = dt.datetime.now(dt.UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(_name(common_name))
            .issuer_name(ca_cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=VALID_DAYS))
            .add_extension(
                x509.SubjectAlternativeName(
                    [
                        x509.DNSName("localhost"),
                        x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                        *(x509.DNSName(host) for host in hosts),
                    ]
                ),
                critical=False,
            )
            .add_extension(
                x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False
            )
            .sign(ca_key, hashes.SHA256())  # type: ignore[arg-type]
        )
        _write_private(
            path, _pem_key(key) + cert.public_bytes(serialization.Encoding.PEM) + ca_cert.public_bytes(serialization.Encoding.PEM)
        )
        return path

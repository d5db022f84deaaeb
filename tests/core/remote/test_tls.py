"""TLS with the organisation's own certificate authority: a server whose certificate that CA
signed is trusted once the policy names the CA's file (`ca_bundle`), and refused with a
sentence without it; a CA file that cannot be read or holds no certificate is said plainly.
The CA and the server's certificate are made for each run."""

from __future__ import annotations

import datetime
import ipaddress
import ssl

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from core.chat.answer import Answer
from core.remote import CertificateNotTrusted, RemoteModel, RemoteServer
from core.system.policy import Policy
from tests.core.remote.fake_server import fake_server

ANSWER = [{"choices": [{"index": 0, "delta": {"content": "Over TLS."}, "finish_reason": "stop"}]}]


def _certificate(subject: str, key, issuer_name, issuer_key, *, ca: bool, names=()):
    now = datetime.datetime.now(datetime.UTC)
    builder = (x509.CertificateBuilder()
               .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
               .issuer_name(issuer_name or x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if ca:
        builder = builder.add_extension(x509.KeyUsage(
            digital_signature=True, content_commitment=False, key_encipherment=False, data_encipherment=False,
            key_agreement=False, key_cert_sign=True, crl_sign=True, encipher_only=False, decipher_only=False),
            critical=True).add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    else:
        builder = builder.add_extension(x509.SubjectAlternativeName(list(names)), critical=False).add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False).add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


@pytest.fixture(scope="module")
def organisation(tmp_path_factory):
    """(CA file, server SSL context): the organisation's CA, and a server certificate it signed
    for localhost and 127.0.0.1."""
    folder = tmp_path_factory.mktemp("pki")
    ca_key, server_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = _certificate("ACME Internal CA", ca_key, None, ca_key, ca=True)
    names = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    leaf = _certificate("llm.acme.example", server_key, ca.subject, ca_key, ca=False, names=names)
    (folder / "acme-ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    (folder / "server.pem").write_bytes(leaf.public_bytes(serialization.Encoding.PEM) + server_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(folder / "server.pem")
    return folder / "acme-ca.pem", context


def ask(url: str, policy: Policy):
    return list(RemoteModel(RemoteServer.open(url, policy=policy), "m").generate([{"role": "user", "content": "Hi"}]))


def test_the_organisations_ca_makes_its_server_trusted(organisation):
    ca_file, context = organisation
    with fake_server(lambda h, _: h.sse(ANSWER), tls=context) as server:
        assert server.url.startswith("https://")
        events = ask(server.url, Policy(ca_bundle=ca_file))
        by_name = ask(server.url.replace("127.0.0.1", "localhost"), Policy(ca_bundle=ca_file))
    assert Answer.of(events).content == "Over TLS." and events[-1].reason == "stop"
    assert Answer.of(by_name).content == "Over TLS."


def test_without_the_ca_the_server_is_refused_with_a_sentence(organisation):
    _, context = organisation
    with fake_server(lambda h, _: h.sse(ANSWER), tls=context) as server, \
            pytest.raises(CertificateNotTrusted) as raised:
        ask(server.url, Policy())
    sentence = str(raised.value)
    assert sentence.startswith(f"Hearth could not confirm that 127.0.0.1:{server.server_port} is really your "
                               "organisation's server: its certificate is not trusted by this computer (")
    assert sentence.endswith("the administrator sets its file with ca_bundle in the policy.")


def test_a_ca_file_that_cannot_be_used_is_said(tmp_path, organisation):
    _, context = organisation
    not_pem = tmp_path / "ca.txt"
    not_pem.write_text("not a certificate")
    with fake_server(lambda h, _: h.sse(ANSWER), tls=context) as server:
        with pytest.raises(CertificateNotTrusted, match=r"acme-missing\.pem \(ca_bundle in the policy\) cannot be "
                                                        r"read, because"):
            ask(server.url, Policy(ca_bundle=tmp_path / "acme-missing.pem"))
        with pytest.raises(CertificateNotTrusted, match=r"holds no certificate Hearth can use: it must be PEM text"):
            ask(server.url, Policy(ca_bundle=not_pem))

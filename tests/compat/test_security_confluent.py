"""confluent-kafka (librdkafka) over every security protocol, and the refusals.

One broker with four listeners: SASL_PLAINTEXT and SASL_SSL (SASL/PLAIN users from the listeners'
JAAS configuration), SSL, and MTLS (SSL with ssl.client.auth=required and a principal mapping rule).
The certificates are made for the run (security_certs.py). Each good configuration produces and
consumes; wrong passwords, missing or foreign certificates and clients that skip authentication get
nothing; no password appears in the broker's output.
"""

import base64
import json
import socket
import ssl
import tempfile
import time

import brook_harness as h
import security_certs

h.require_program("openssl")
h.require_modules("confluent_kafka")

from confluent_kafka import Consumer, KafkaException, Producer  # noqa: E402
from confluent_kafka.admin import AdminClient  # noqa: E402

CERT_DIR = tempfile.mkdtemp(prefix="brook-security-")
CERTS = security_certs.make_certificates(CERT_DIR)
PLAIN_JAAS = ('org.apache.kafka.common.security.plain.PlainLoginModule required '
              'user_alice="alice-secret" user_bob="bob-secret";')
OVERRIDES = {
    "listeners": ("SASL_PLAINTEXT://127.0.0.1:0,SSL://127.0.0.1:0,SASL_SSL://127.0.0.1:0,MTLS://127.0.0.1:0,"
                  "TLS12://127.0.0.1:0"),
    "listener.security.protocol.map": "SASL_PLAINTEXT:SASL_PLAINTEXT,SSL:SSL,SASL_SSL:SASL_SSL,MTLS:SSL,TLS12:SSL",
    "listener.name.tls12.ssl.enabled.protocols": "TLSv1.2",
    "sasl.enabled.mechanisms": "PLAIN,OAUTHBEARER",
    "listener.name.sasl_plaintext.sasl.enabled.mechanisms": "PLAIN",
    "listener.name.sasl_ssl.oauthbearer.sasl.jaas.config":
        "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required;",
    "listener.name.sasl_plaintext.plain.sasl.jaas.config": PLAIN_JAAS,
    "listener.name.sasl_ssl.plain.sasl.jaas.config": PLAIN_JAAS,
    "ssl.keystore.type": "PEM",
    "ssl.keystore.location": CERTS["broker.pem"],
    # The MTLS listener shows PKCS12 stores and the client certificate check.
    "listener.name.mtls.ssl.keystore.type": "PKCS12",
    "listener.name.mtls.ssl.keystore.location": CERTS["broker.p12"],
    "listener.name.mtls.ssl.keystore.password": "store-secret",
    "listener.name.mtls.ssl.client.auth": "required",
    "listener.name.mtls.ssl.truststore.type": "PEM",
    "listener.name.mtls.ssl.truststore.location": CERTS["ca.pem"],
    "listener.name.mtls.ssl.principal.mapping.rules": "RULE:^CN=([^,]*),.*$/$1/L,DEFAULT",
    "connection.failed.authentication.delay.ms": "50",
}
SECRETS = ["alice-secret", "bob-secret", "store-secret", "wrong-password"]


def client_config(srv, listener, **extra):
    port = srv.listener_ports[listener]
    conf = {"bootstrap.servers": f"localhost:{port}"}
    if listener in ("SASL_PLAINTEXT", "SASL_SSL"):
        conf.update({"security.protocol": listener, "sasl.mechanism": "PLAIN",
                     "sasl.username": "alice", "sasl.password": "alice-secret"})
    if listener in ("SSL", "SASL_SSL", "MTLS", "TLS12"):
        conf.update({"security.protocol": "SASL_SSL" if listener == "SASL_SSL" else "SSL",
                     "ssl.ca.location": CERTS["ca.pem"]})
    if listener == "MTLS":
        conf.update({"ssl.certificate.location": CERTS["client.crt"], "ssl.key.location": CERTS["client.key"]})
    conf.update(extra)
    return conf


def produce_and_consume(conf, topic, count=20):
    p = Producer({**conf, "linger.ms": 5})
    for i in range(count):
        p.produce(topic, key=f"k{i % 3}".encode(), value=f"{topic}-{i}".encode())
    assert p.flush(30) == 0, "records left unsent"
    c = Consumer({**conf, "group.id": f"g-{topic}", "auto.offset.reset": "earliest"})
    c.subscribe([topic])
    got = []
    deadline = time.monotonic() + 30
    while len(got) < count and time.monotonic() < deadline:
        m = c.poll(0.5)
        if m is None:
            continue
        assert m.error() is None, m.error()
        got.append(m.value().decode())
    c.close()
    assert sorted(got) == sorted(f"{topic}-{i}" for i in range(count)), got


def refused(conf):
    """True when the client can read no metadata at all (the broker refuses it)."""
    errors = []
    admin = AdminClient({**conf, "error_cb": errors.append, "socket.timeout.ms": 3000})
    try:
        admin.list_topics(timeout=4)
    except KafkaException:
        return True
    return False


# --- tests ---------------------------------------------------------------------------------------

def test_sasl_plaintext_produces_and_consumes(srv):
    produce_and_consume(client_config(srv, "SASL_PLAINTEXT"), "sec-sasl-plaintext")


def test_ssl_produces_and_consumes(srv):
    produce_and_consume(client_config(srv, "SSL"), "sec-ssl")


def test_sasl_ssl_produces_and_consumes(srv):
    produce_and_consume(client_config(srv, "SASL_SSL"), "sec-sasl-ssl")


def test_sasl_ssl_oauthbearer_unsecured_token_produces_and_consumes(srv):
    conf = client_config(srv, "SASL_SSL")
    for key in ("sasl.username", "sasl.password"):
        del conf[key]
    conf.update({"sasl.mechanism": "OAUTHBEARER", "enable.sasl.oauthbearer.unsecure.jwt": True,
                 "sasl.oauthbearer.config": "principal=alice lifeSeconds=3600"})
    produce_and_consume(conf, "sec-oauthbearer")


def unsecured_jwt(claims):
    def part(obj):
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()
    return part({"alg": "none"}) + "." + part(claims) + "."


def test_expired_oauthbearer_token_is_refused(srv):
    now = time.time()
    token = unsecured_jwt({"sub": "alice", "iat": now - 7200, "exp": now - 3600})
    conf = client_config(srv, "SASL_SSL")
    for key in ("sasl.username", "sasl.password"):
        del conf[key]
    # The client believes the token good for an hour more; the broker reads its exp claim.
    conf.update({"sasl.mechanism": "OAUTHBEARER", "oauth_cb": lambda _config: (token, now + 3600)})
    assert refused(conf)


def test_mtls_with_client_certificate_produces_and_consumes(srv):
    produce_and_consume(client_config(srv, "MTLS"), "sec-mtls")


def tls_version(port, minimum=None, maximum=None):
    """The TLS version a handshake with the listener settles on, or None when it fails."""
    ctx = ssl.create_default_context(cafile=CERTS["ca.pem"])
    if minimum:
        ctx.minimum_version = minimum
    if maximum:
        ctx.maximum_version = maximum
    try:
        with socket.create_connection(("localhost", port), timeout=5) as raw:
            with ctx.wrap_socket(raw, server_hostname="localhost") as tls:
                return tls.version()
    except (ssl.SSLError, OSError):
        return None


def test_tls_versions_follow_ssl_enabled_protocols(srv):
    both, only12 = srv.listener_ports["SSL"], srv.listener_ports["TLS12"]
    assert tls_version(both) == "TLSv1.3"
    assert tls_version(both, maximum=ssl.TLSVersion.TLSv1_2) == "TLSv1.2"
    assert tls_version(both, maximum=ssl.TLSVersion.TLSv1_1) is None
    assert tls_version(only12) == "TLSv1.2"
    assert tls_version(only12, minimum=ssl.TLSVersion.TLSv1_3) is None
    produce_and_consume(client_config(srv, "TLS12"), "sec-tls12")


def test_wrong_password_is_refused(srv):
    for listener in ("SASL_PLAINTEXT", "SASL_SSL"):
        errors = []
        conf = client_config(srv, listener, **{"sasl.password": "wrong-password"})
        admin = AdminClient({**conf, "error_cb": errors.append})
        try:
            admin.list_topics(timeout=4)
            raise AssertionError(f"{listener}: metadata with a wrong password")
        except KafkaException:
            pass
        admin.poll(1)  # delivers the client's errors to error_cb
        text = " ".join(str(e) for e in errors)
        assert "Authentication failed: Invalid username or password" in text, text


def test_unknown_user_is_refused_alike(srv):
    errors = []
    conf = client_config(srv, "SASL_PLAINTEXT", **{"sasl.username": "mallory"})
    admin = AdminClient({**conf, "error_cb": errors.append})
    try:
        admin.list_topics(timeout=4)
        raise AssertionError("metadata for an unknown user")
    except KafkaException:
        pass
    admin.poll(1)
    assert "Authentication failed: Invalid username or password" in " ".join(str(e) for e in errors)


def test_client_that_skips_authentication_gets_nothing(srv):
    port = srv.listener_ports["SASL_PLAINTEXT"]
    assert refused({"bootstrap.servers": f"127.0.0.1:{port}"})
    p = Producer({"bootstrap.servers": f"127.0.0.1:{port}", "message.timeout.ms": 3000})
    p.produce("sec-sasl-plaintext", value=b"sneaky")
    p.flush(5)
    c = Consumer({**client_config(srv, "SASL_PLAINTEXT"), "group.id": "g-check", "auto.offset.reset": "earliest"})
    c.subscribe(["sec-sasl-plaintext"])
    values = []
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and len(values) < 20:
        m = c.poll(0.5)
        if m is not None and m.error() is None:
            values.append(m.value())
    c.close()
    assert b"sneaky" not in values


def test_plaintext_client_on_tls_listener_is_refused(srv):
    assert refused({"bootstrap.servers": f"127.0.0.1:{srv.listener_ports['SSL']}"})


def test_mtls_without_or_with_a_foreign_certificate_is_refused(srv):
    port = srv.listener_ports["MTLS"]
    base = {"bootstrap.servers": f"localhost:{port}", "security.protocol": "SSL", "ssl.ca.location": CERTS["ca.pem"]}
    assert refused(base)
    assert refused({**base, "ssl.certificate.location": CERTS["rogue.crt"], "ssl.key.location": CERTS["rogue.key"]})


def test_client_that_does_not_trust_the_broker_refuses_it(srv):
    conf = client_config(srv, "SSL", **{"ssl.ca.location": CERTS["rogue-ca.pem"]})
    assert refused(conf)


def test_failures_are_logged_with_the_client_address_and_no_secret(srv):
    log = srv.log_text()
    assert "Failed authentication with 127.0.0.1:" in log, log[-2000:]
    for secret in SECRETS:
        assert secret not in log, f"{secret} appears in the broker's output"


if __name__ == "__main__":
    h.main(globals(), overrides=OVERRIDES, modules=["confluent_kafka"], programs=["openssl"])

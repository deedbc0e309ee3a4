"""Test certificates made with the openssl command for each run (no key is ever committed), and the
security listeners the side-by-side suites give both Kafka and Brook.

make_certificates(dir) writes, under `dir`:
  ca.pem / ca.key             a test certificate authority
  broker.pem                  the broker's key and certificate (CN=localhost, SAN localhost and 127.0.0.1), PEM
  broker.p12                  the same as PKCS12, password "store-secret"
  client.crt / client.key     a client certificate signed by the CA: CN=app-client,OU=Apps,O=Brook
  client.pem                  the client's key and certificate in one PEM file (a Java PEM keystore)
  rogue-ca.pem, rogue.crt / rogue.key  a client certificate from another authority
  rogue.pem                   its key and certificate in one PEM file
and returns the paths by name.

SECURITY_LISTENERS and security_properties(dir) are the listeners and settings (ACL authorizer included) of the side-by-side
suites' brokers: tests/client/kafka/kafka_broker.py writes them into Kafka's server.properties and
tests/compat/java/run_java_compat.py passes the same keys to brook-server as overrides, with the same
certificates, so that both brokers read the same configuration.
"""

import os
import subprocess


def _openssl(*args, cwd):
    r = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        raise AssertionError(f"openssl {' '.join(args)} failed: {r.stderr}")


def _signed(cwd, name, subject, ca, extensions=None):
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.csr",
             "-subj", subject, cwd=cwd)
    args = ["x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.pem", "-CAkey", f"{ca}.key", "-CAcreateserial",
            "-out", f"{name}.crt", "-days", "2"]
    if extensions:
        with open(os.path.join(cwd, f"{name}.ext"), "w") as f:
            f.write(extensions)
        args += ["-extfile", f"{name}.ext"]
    _openssl(*args, cwd=cwd)


def make_certificates(cwd):
    for ca in ("ca", "rogue-ca"):
        _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{ca}.key", "-out", f"{ca}.pem",
                 "-days", "2", "-subj", f"/CN=Brook Test {ca}", cwd=cwd)
    _signed(cwd, "broker", "/CN=localhost", "ca", "subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    _signed(cwd, "client", "/O=Brook/OU=Apps/CN=app-client", "ca")
    _signed(cwd, "rogue", "/O=Brook/OU=Apps/CN=app-client", "rogue-ca")
    with open(os.path.join(cwd, "broker.pem"), "w") as out:
        for part in ("broker.key", "broker.crt"):
            with open(os.path.join(cwd, part)) as f:
                out.write(f.read())
    for name in ("client", "rogue"):
        with open(os.path.join(cwd, f"{name}.pem"), "w") as out:
            for part in (f"{name}.key", f"{name}.crt"):
                with open(os.path.join(cwd, part)) as f:
                    out.write(f.read())
    _openssl("pkcs12", "-export", "-in", "broker.crt", "-inkey", "broker.key", "-out", "broker.p12",
             "-passout", "pass:store-secret", "-name", "broker", cwd=cwd)
    names = ["ca.pem", "broker.pem", "broker.p12", "client.crt", "client.key", "client.pem", "rogue-ca.pem",
             "rogue.crt", "rogue.key", "rogue.pem"]
    return {n: os.path.join(cwd, n) for n in names}


# The security listeners beside PLAINTEXT, by name, with their security protocol: SASL (PLAIN,
# OAUTHBEARER, SCRAM-SHA-256 and SCRAM-SHA-512) in the clear and over TLS, TLS alone, TLS with a required client certificate (MTLS), and
# SASL/PLAIN whose sessions last REAUTH_MS (KIP-368: clients re-authenticate on the same connection).
SECURITY_LISTENERS = {
    "SASL_PLAINTEXT": "SASL_PLAINTEXT",
    "SSL": "SSL",
    "SASL_SSL": "SASL_SSL",
    "MTLS": "SSL",
    "REAUTH": "SASL_PLAINTEXT",
}
REAUTH_MS = 2000
# The PLAIN users (user_<name>="<password>" of PlainLoginModule); admin is a super user.
PLAIN_USERS = {"alice": "alice-secret", "bob": "bob-secret", "admin": "admin-secret"}
KEYSTORE_PASSWORD = "store-secret"
AUTHORIZER = "org.apache.kafka.metadata.authorizer.StandardAuthorizer"
SUPER_USERS = ("User:ANONYMOUS", "User:admin")


def sasl_jaas_configs():
    """sasl.jaas.config of each SASL mechanism the SASL listeners serve, by mechanism (another mechanism
    is one more entry here and its clients' settings in the suites)."""
    users = " ".join(f'user_{name}="{password}"' for name, password in PLAIN_USERS.items())
    return {
        "PLAIN": f"org.apache.kafka.common.security.plain.PlainLoginModule required {users};",
        # Unsecured JWTs (alg "none"), as Kafka validates them without a validator callback handler.
        "OAUTHBEARER": ("org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required "
                        'unsecuredLoginStringClaim_sub="broker";'),
        # SCRAM's users are credentials stored with AlterUserScramCredentials. Kafka still wants a JAAS
        # entry for every mechanism a SASL listener enables (its server-side login context); it has no
        # options. Brook checks the entry and needs none.
        "SCRAM-SHA-256": "org.apache.kafka.common.security.scram.ScramLoginModule required;",
        "SCRAM-SHA-512": "org.apache.kafka.common.security.scram.ScramLoginModule required;",
    }


def security_properties(cert_dir):
    """The broker settings of SECURITY_LISTENERS (all but `listeners` and `listener.security.protocol.map`)."""
    jaas = sasl_jaas_configs()
    properties = {
        "sasl.enabled.mechanisms": ",".join(jaas),
        "ssl.keystore.type": "PEM",
        "ssl.keystore.location": os.path.join(cert_dir, "broker.pem"),
        # MTLS shows a PKCS12 keystore, the client certificate check and a principal mapping rule.
        "listener.name.mtls.ssl.keystore.type": "PKCS12",
        "listener.name.mtls.ssl.keystore.location": os.path.join(cert_dir, "broker.p12"),
        "listener.name.mtls.ssl.keystore.password": KEYSTORE_PASSWORD,
        "listener.name.mtls.ssl.client.auth": "required",
        "listener.name.mtls.ssl.truststore.type": "PEM",
        "listener.name.mtls.ssl.truststore.location": os.path.join(cert_dir, "ca.pem"),
        "listener.name.mtls.ssl.principal.mapping.rules": "RULE:^CN=([^,]*),.*$/$1/L,DEFAULT",
        # REAUTH serves PLAIN alone.
        "listener.name.reauth.sasl.enabled.mechanisms": "PLAIN",
        "listener.name.reauth.plain.sasl.jaas.config": jaas["PLAIN"],
        "listener.name.reauth.plain.connections.max.reauth.ms": str(REAUTH_MS),
        # Kafka's ACL authorizer. PLAINTEXT clients (every scenario but the security ones) are
        # User:ANONYMOUS, a super user, and so is the PLAIN user admin; the SASL principals may do anything
        # on a resource without ACLs, and what an ACL allows or denies them on one that has some.
        "authorizer.class.name": AUTHORIZER,
        "super.users": ";".join(SUPER_USERS),
        "allow.everyone.if.no.acl.found": "true",
    }
    for listener in ("sasl_plaintext", "sasl_ssl"):
        for mechanism, config in jaas.items():
            properties[f"listener.name.{listener}.{mechanism.lower()}.sasl.jaas.config"] = config
    return properties

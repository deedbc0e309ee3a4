"""Test certificates made with the openssl command for each run (no key is ever committed).

make_certificates(dir) writes, under `dir`:
  ca.pem / ca.key             a test certificate authority
  broker.pem                  the broker's key and certificate (CN=localhost, SAN localhost and 127.0.0.1), PEM
  broker.p12                  the same as PKCS12, password "store-secret"
  client.crt / client.key     a client certificate signed by the CA: CN=app-client,OU=Apps,O=Brook
  rogue-ca.pem, rogue.crt / rogue.key  a client certificate from another authority
and returns the paths by name.
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
    _openssl("pkcs12", "-export", "-in", "broker.crt", "-inkey", "broker.key", "-out", "broker.p12",
             "-passout", "pass:store-secret", "-name", "broker", cwd=cwd)
    names = ["ca.pem", "broker.pem", "broker.p12", "client.crt", "client.key", "rogue-ca.pem", "rogue.crt",
             "rogue.key"]
    return {n: os.path.join(cwd, n) for n in names}

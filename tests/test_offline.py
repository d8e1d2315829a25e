"""The build makes no network request: checked by Python's audit hooks, and by building
inside a network namespace that has no network at all (where the platform allows it)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap

import pytest

from conftest import EXAMPLE_SITE

# Runs the CLI with an audit hook that records every socket call Python code makes.
HOOKED_BUILD = textwrap.dedent("""
    import sys
    attempts = []
    def hook(event, args):
        if event in ("socket.connect", "socket.getaddrinfo", "socket.sendto",
                     "urllib.Request", "http.client.connect"):
            attempts.append((event, repr(args)[:120]))
    sys.addaudithook(hook)
    from evidencechain.cli import main
    try:
        main(["build", sys.argv[1], "-o", sys.argv[2]])
    except SystemExit as exit:
        code = exit.code
    print("NETWORK-ATTEMPTS", attempts)
    sys.exit(code)
""")


def test_no_socket_is_opened_during_a_build(tmp_path):
    proc = subprocess.run([sys.executable, "-c", HOOKED_BUILD, str(EXAMPLE_SITE),
                           str(tmp_path / "site")], capture_output=True, text=True, timeout=300)

    assert proc.returncode == 0, proc.stderr
    assert "NETWORK-ATTEMPTS []" in proc.stdout


def _unshare_works() -> bool:
    unshare = shutil.which("unshare")
    if not unshare:
        return False
    for args in (["-n"], ["-rn"]):
        if subprocess.run([unshare, *args, "true"], capture_output=True).returncode == 0:
            return True
    return False


@pytest.mark.skipif(not _unshare_works(), reason="this platform cannot make a network "
                    "namespace (needs Linux and root or user namespaces)")
def test_build_succeeds_with_no_network_at_all(tmp_path):
    args = ["-n"] if subprocess.run(["unshare", "-n", "true"]).returncode == 0 else ["-rn"]
    proc = subprocess.run(["unshare", *args, sys.executable, "-m", "evidencechain.cli",
                           "build", str(EXAMPLE_SITE), "-o", str(tmp_path / "site")],
                          capture_output=True, text=True, timeout=300)

    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "site" / "index.html").is_file()

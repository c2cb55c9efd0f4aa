#!/usr/bin/env python3
"""check_k8s.py - the Kubernetes manifests of contrib/k8s (issue 14) parse
as YAML and hang together: the kinds docs/DEPLOY.md promises are there;
the Service and the PodDisruptionBudget select the Deployment's pods;
every volume names a Secret of secret.yaml and every mount a volume;
the files given to --cert, --key and --ticket-key-file lie in a mounted
Secret under a key it defines; every option of bitstuffd's arguments and
of the readiness probe's bitstuff command is one the programs know
(their --help).  Exit 77 (skipped) without PyYAML.

Usage: check_k8s.py K8S_DIR BUILD_DIR
"""
import os
import shlex
import subprocess
import sys

try:
    import yaml
except ImportError:
    print("SKIP: python3-yaml is not installed")
    sys.exit(77)

errors = []


def check(cond, msg):
    if not cond:
        errors.append(msg)


def help_options(prog):
    out = subprocess.run([prog, "--help"], capture_output=True, text=True,
                         timeout=30).stdout
    return {w.rstrip(",=") for w in out.replace("[", " ").split()
            if w.startswith("--")}


def main():
    k8s, build = sys.argv[1], sys.argv[2]
    docs = []
    for name in sorted(os.listdir(k8s)):
        if not name.endswith((".yaml", ".yml")):
            continue
        with open(os.path.join(k8s, name)) as f:
            try:
                for d in yaml.safe_load_all(f):
                    if d is not None:
                        docs.append((name, d))
            except yaml.YAMLError as e:
                errors.append(f"{name}: not valid YAML: {e}")
    by_kind = {}
    for name, d in docs:
        for field in ("apiVersion", "kind", "metadata"):
            check(field in d, f"{name}: a document without {field}")
        by_kind.setdefault(d.get("kind"), []).append(d)
    for kind in ("Deployment", "Service", "Secret", "PodDisruptionBudget"):
        check(kind in by_kind, f"no {kind} in {k8s}")
    if errors:
        return
    secrets = {s["metadata"]["name"]: set(s.get("stringData", {})) |
               set(s.get("data", {})) for s in by_kind["Secret"]}
    dep = by_kind["Deployment"][0]
    spec = dep["spec"]
    labels = spec["template"]["metadata"]["labels"]
    sel = spec["selector"]["matchLabels"]
    check(all(labels.get(k) == v for k, v in sel.items()),
          "Deployment: its selector does not match its pods' labels")
    for kind, get in (("Service", lambda d: d["spec"]["selector"]),
                      ("PodDisruptionBudget",
                       lambda d: d["spec"]["selector"]["matchLabels"])):
        for d in by_kind[kind]:
            check(all(labels.get(k) == v for k, v in get(d).items()),
                  f"{kind} {d['metadata']['name']} selects no bitstuffd pod")
    pod = spec["template"]["spec"]
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    for v in volumes.values():
        if "secret" in v:
            check(v["secret"]["secretName"] in secrets,
                  f"volume {v['name']}: no Secret "
                  f"{v['secret']['secretName']} in secret.yaml")
    server_opts = help_options(os.path.join(build, "bitstuffd"))
    client_opts = help_options(os.path.join(build, "bitstuff"))
    check(len(server_opts) > 5 and len(client_opts) > 5,
          "cannot read the programs' --help")
    for c in pod["containers"]:
        mounts = {m["mountPath"].rstrip("/"): m["name"]
                  for m in c.get("volumeMounts", [])}
        for m in mounts.values():
            check(m in volumes, f"container {c['name']}: no volume {m}")
        args = [str(a) for a in c.get("args", [])]
        for i, a in enumerate(args):
            if a.startswith("--"):
                check(a.split("=")[0] in server_opts,
                      f"bitstuffd does not know {a} (its --help)")
            if a in ("--cert", "--key", "--ticket-key-file"):
                path = args[i + 1]
                d, key = os.path.split(path)
                vol = volumes.get(mounts.get(d, ""), {})
                sec = vol.get("secret", {}).get("secretName")
                check(sec is not None and key in secrets.get(sec, ()),
                      f"{a} {path}: not a key of a mounted Secret")
        for o in ("--cert", "--key", "--ticket-key-file"):
            check(o in args, f"container {c['name']}: no {o}")
        probe = c.get("readinessProbe")
        check(probe is not None, f"container {c['name']}: no readinessProbe")
        cmd = " ".join(probe.get("exec", {}).get("command", [])) if probe \
            else ""
        if "bitstuff " in cmd:
            words = shlex.split(cmd.replace("$(", " ").replace(")", " "))
            for w in words:
                if w.startswith("--"):
                    check(w in client_opts,
                          f"readiness probe: bitstuff does not know {w}")


main()
for e in errors:
    print("FAIL:", e)
if errors:
    sys.exit(1)
print("contrib/k8s: parses, and hangs together")

#!/usr/bin/env python3
"""deploy/helm/check-rendered.py RENDERED.yaml OUT_DIR: the promises of the pix-ingest chart,
checked on what `helm template` rendered (scripts/deploy-check runs it).

Every workload runs non-root with a read-only root file system and writable volumes where
pix-ingest writes, has resource requests and limits, liveness on the admin /healthz, readiness on
the right /readyz (ingest: its source listener's port; sinks: the admin listener), a preStop drain
and a termination grace above drain + drain_delay + shutdown.grace; no Secret is rendered and no
secret-looking variable has a literal value; every `${VAR}` of a config is given to the pods that
read it; Services, PodDisruptionBudgets and the ServiceMonitor select what exists. The rendered
pix-ingest configs are written to OUT_DIR for `pix-ingest check-config`.
"""

import json
import os
import re
import sys

import yaml

SECRETISH = re.compile(r"PASSWORD|SECRET|TOKEN|SALT|PRIVATE|CREDENTIAL", re.I)
VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(:-[^}]*)?\}")
problems = []


def problem(where, what):
    problems.append(f"{where}: {what}")


def duration_seconds(text):
    m = re.fullmatch(r"(\d+)s", text)
    return int(m.group(1)) if m else None


def selects(selector, labels):
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def check_container(where, c, pod, config, ingest):
    sc = c.get("securityContext", {})
    if sc.get("readOnlyRootFilesystem") is not True:
        problem(where, "root file system not read-only")
    if sc.get("allowPrivilegeEscalation") is not False:
        problem(where, "privilege escalation not disabled")
    if "ALL" not in sc.get("capabilities", {}).get("drop", []):
        problem(where, "capabilities not all dropped")
    for kind in ("requests", "limits"):
        for r in ("cpu", "memory"):
            if r not in c.get("resources", {}).get(kind, {}):
                problem(where, f"no resources.{kind}.{r}")
    live = c.get("livenessProbe", {}).get("httpGet", {})
    if (live.get("path"), live.get("port")) != ("/healthz", "admin"):
        problem(where, f"liveness is not the admin /healthz: {live}")
    ready = c.get("readinessProbe", {}).get("httpGet", {})
    ports = {p["name"]: p["containerPort"] for p in c.get("ports", [])}
    if ready.get("path") != "/readyz":
        problem(where, f"readiness is not a /readyz: {ready}")
    source_ports = [p for n, p in ports.items() if n.startswith("src-")]
    if ingest and ready.get("port") not in source_ports:
        problem(where, f"ingest readiness must be on a source listener {source_ports}, not {ready.get('port')}")
    if not ingest and ready.get("port") != "admin":
        problem(where, f"sink readiness must be on the admin listener, not {ready.get('port')}")
    listens = {int(s["listen"].rsplit(":", 1)[1]) for s in config.get("sources", [])}
    if set(source_ports) != listens:
        problem(where, f"container ports {source_ports} are not the sources' listen ports {sorted(listens)}")
    if ports.get("admin") != int(config["admin"]["listen"].rsplit(":", 1)[1]):
        problem(where, "the admin port is not the config's admin.listen")
    stop = c.get("lifecycle", {}).get("preStop", {}).get("exec", {}).get("command", [])
    if len(stop) != 2 or stop[0] != "sleep":
        problem(where, f"no preStop sleep: {stop}")
    else:
        drain = int(stop[1])
        delay = duration_seconds(config.get("shutdown", {}).get("drain_delay", "5s"))
        grace = duration_seconds(config["shutdown"]["grace"])
        if pod.get("terminationGracePeriodSeconds", 30) <= drain + delay + grace:
            problem(where, f"terminationGracePeriodSeconds {pod.get('terminationGracePeriodSeconds')} <= preStop {drain} + drain_delay {delay} + grace {grace}")
    mounts = {m["mountPath"] for m in c.get("volumeMounts", [])}
    for path in ("/var/lib/pix-ingest", "/tmp", "/etc/pix-ingest"):
        if path not in mounts:
            problem(where, f"nothing mounted at {path} (the root file system is read-only)")
    env = {e["name"]: e for e in c.get("env", [])}
    for name, e in env.items():
        if SECRETISH.search(name) and "value" in e:
            problem(where, f"{name} has a literal value: a secret must come from a Secret")
    if not ingest:
        ref = env.get("PIX_INGEST_KAFKA_INSTANCE_ID", {}).get("valueFrom", {}).get("fieldRef", {})
        if ref.get("fieldPath") != "metadata.name":
            problem(where, "sink pods must join their groups as static members named after the pod (PIX_INGEST_KAFKA_INSTANCE_ID)")
    wanted = set(VAR.findall(json.dumps(config)))
    if not c.get("envFrom"):
        for name, default in wanted:
            if name not in env and not default:
                problem(where, f"the config reads ${{{name}}} but the pod does not get it")
    return env


def main():
    rendered, out_dir = sys.argv[1], sys.argv[2]
    docs = [d for d in yaml.safe_load_all(open(rendered)) if d]
    kinds = {}
    for d in docs:
        kinds.setdefault(d["kind"], []).append(d)
    if "Secret" in kinds:
        problem("chart", "renders a Secret: secrets must be referenced, never rendered")
    for k in ("ConfigMap", "Deployment", "StatefulSet", "Service", "PodDisruptionBudget"):
        if k not in kinds:
            problem("chart", f"no {k} rendered")
    cm = kinds.get("ConfigMap", [{}])[0].get("data", {})
    os.makedirs(out_dir, exist_ok=True)
    configs = {}
    for name, text in cm.items():
        configs[name] = json.loads(text)
        with open(os.path.join(out_dir, name), "w") as f:
            f.write(text)
    pods = []
    for w in kinds.get("Deployment", []) + kinds.get("StatefulSet", []):
        where = f"{w['kind']}/{w['metadata']['name']}"
        pod = w["spec"]["template"]["spec"]
        labels = w["spec"]["template"]["metadata"]["labels"]
        if not selects(w["spec"]["selector"]["matchLabels"], labels):
            problem(where, "its selector does not select its pods")
        psc = pod.get("securityContext", {})
        if psc.get("runAsNonRoot") is not True or psc.get("runAsUser", 0) == 0:
            problem(where, "pods may run as root")
        ingest = w["kind"] == "Deployment"
        for c in pod["containers"]:
            env = {e["name"]: e.get("value") for e in c.get("env", [])}
            cfg_name = os.path.basename(env.get("PIX_INGEST_CONFIG") or "")
            if cfg_name not in configs:
                problem(where, f"PIX_INGEST_CONFIG {env.get('PIX_INGEST_CONFIG')} is not in the ConfigMap")
                continue
            cfg = configs[cfg_name]
            if ingest and (not cfg["sources"] or cfg["sinks"]):
                problem(where, "the ingest config must have sources and no sinks")
            if not ingest and (cfg["sources"] or not cfg["sinks"]):
                problem(where, "the sinks config must have sinks and no sources")
            check_container(f"{where}/{c['name']}", c, pod, cfg, ingest)
            ports = {p["name"] for p in c.get("ports", [])} | {p["containerPort"] for p in c.get("ports", [])}
            pods.append((labels, ports))
        if not ingest:
            claims = {t["metadata"]["name"] for t in w["spec"].get("volumeClaimTemplates", [])}
            vols = {v["name"] for v in pod.get("volumes", [])}
            if "data" not in claims | vols:
                problem(where, "no data volume for the sinks")
    services = kinds.get("Service", [])
    for s in services:
        where = f"Service/{s['metadata']['name']}"
        matched = [ports for labels, ports in pods if selects(s["spec"]["selector"], labels)]
        if not matched:
            problem(where, "selects no pod")
        for p in s["spec"]["ports"]:
            if any(p["targetPort"] not in ports for ports in matched):
                problem(where, f"targetPort {p['targetPort']} is not a container port")
    for b in kinds.get("PodDisruptionBudget", []):
        if not any(selects(b["spec"]["selector"]["matchLabels"], labels) for labels, _ in pods):
            problem(f"PodDisruptionBudget/{b['metadata']['name']}", "selects no pod")
    for m in kinds.get("ServiceMonitor", []):
        where = f"ServiceMonitor/{m['metadata']['name']}"
        if m["apiVersion"] != "monitoring.coreos.com/v1":
            problem(where, f"apiVersion {m['apiVersion']}")
        chosen = [s for s in services if selects(m["spec"]["selector"]["matchLabels"], s["metadata"]["labels"])]
        if not chosen:
            problem(where, "selects no Service")
        for e in m["spec"]["endpoints"]:
            if e.get("path") != "/metrics" or any(e["port"] not in {p["name"] for p in s["spec"]["ports"]} for s in chosen):
                problem(where, f"endpoint {e} is not every selected Service's /metrics port")
    print("\n".join(problems) or f"{len(docs)} manifests, {len(pods)} pod templates, {len(configs)} configs: every promise holds")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()

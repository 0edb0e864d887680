#!/usr/bin/env python3
"""Offline checks of the Kubernetes manifests, run by scripts/validate-deploy.sh with the
Python of its venv (kubernetes-validate, jsonschema, PyYAML):

  check-manifests.py schemas VERSION FILE
      every object in FILE against its schema
  check-manifests.py rendered VERSION FILE NGINX_TEMPLATE
      the same for a `kubectl kustomize` output, then the references between its objects,
      the replicas of both services (rolling, drained, spread, a PodDisruptionBudget, no
      volume of their own) and its routes against the compose gateway's nginx template,
      request by request

Built-in kinds: kubernetes-validate's schemas for Kubernetes VERSION, strict (an unknown
field fails). Gateway and HTTPRoute: kubernetes-validate has no schemas for them and no
package ships them, so GATEWAY_SCHEMAS below writes out, as JSON Schema, the part of the
Gateway API v1 standard channel (the CRDs in config/crd/standard/ of gateway-api
releases 1.x) that routes like ours use: the CRDs' fields, enums, patterns and limits,
unknown fields refused, plus their CEL rules on those fields (gateway_cel). A field
outside that subset fails as unknown, whether standard or experimental: read the CRD
before adding it here. Any other kind without a schema (an implementation's policy CRD)
fails too.
"""
import collections
import re
import sys

import jsonschema
import yaml
from kubernetes_validate import utils as kv

# --- Gateway API v1, standard channel (the subset) -------------------------------------
DNS1123_SUBDOMAIN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
HOSTNAME = r"^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
GROUP = r"^$|^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
KIND = r"^[a-zA-Z]([-a-zA-Z0-9]*[a-zA-Z0-9])?$"
NAMESPACE = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
HEADER_NAME = r"^[A-Za-z0-9!#$%&'*+\-.^_`|~]+$"
DURATION = r"^([0-9]{1,5}(h|m|s|ms)){1,4}$"
METHODS = ["GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"]


def obj(properties, required=()):
    return {"type": "object", "properties": properties, "required": list(required),
            "additionalProperties": False}


def arr(items, max_items, min_items=0):
    return {"type": "array", "items": items, "maxItems": max_items, "minItems": min_items}


def string(pattern=None, max_length=253, enum=None, min_length=0):
    s = {"type": "string", "maxLength": max_length, "minLength": min_length}
    if pattern:
        s["pattern"] = pattern
    if enum:
        s["enum"] = enum
    return s


PORT = {"type": "integer", "minimum": 1, "maximum": 65535}
STRING_MAP = {"type": "object", "additionalProperties": {"type": "string"}}
METADATA = obj({
    "name": string(DNS1123_SUBDOMAIN, min_length=1),
    "namespace": string(NAMESPACE, 63),
    "labels": STRING_MAP,
    "annotations": STRING_MAP,
}, ["name"])
SELECTOR = obj({
    "matchLabels": STRING_MAP,
    "matchExpressions": arr(obj({
        "key": string(), "operator": string(enum=["In", "NotIn", "Exists", "DoesNotExist"]),
        "values": arr(string(), 64)}, ["key", "operator"]), 16),
})
PARENT_REF = obj({
    "group": string(GROUP), "kind": string(KIND, 63), "namespace": string(NAMESPACE, 63),
    "name": string(min_length=1), "sectionName": string(DNS1123_SUBDOMAIN), "port": PORT,
}, ["name"])
BACKEND_OBJECT_REF = {
    "group": string(GROUP), "kind": string(KIND, 63), "name": string(min_length=1),
    "namespace": string(NAMESPACE, 63), "port": PORT,
}
HEADER = obj({"name": string(HEADER_NAME, 256, min_length=1), "value": string(max_length=4096)},
             ["name", "value"])
HEADER_MODIFIER = obj({"set": arr(HEADER, 16), "add": arr(HEADER, 16),
                       "remove": arr(string(max_length=256), 16)})
PATH_MODIFIER = obj({"type": string(enum=["ReplaceFullPath", "ReplacePrefixMatch"]),
                     "replaceFullPath": string(max_length=1024),
                     "replacePrefixMatch": string(max_length=1024)}, ["type"])
FILTER_BODIES = {
    "RequestHeaderModifier": ("requestHeaderModifier", HEADER_MODIFIER),
    "ResponseHeaderModifier": ("responseHeaderModifier", HEADER_MODIFIER),
    "RequestRedirect": ("requestRedirect", obj({
        "scheme": string(enum=["http", "https"]), "hostname": string(DNS1123_SUBDOMAIN),
        "path": PATH_MODIFIER, "port": PORT,
        "statusCode": {"type": "integer", "enum": [301, 302, 303, 307, 308]}})),
    "URLRewrite": ("urlRewrite", obj({"hostname": string(DNS1123_SUBDOMAIN), "path": PATH_MODIFIER})),
    # How an implementation's own filter (a rate limit, say) is attached to one rule.
    "ExtensionRef": ("extensionRef", obj({"group": string(GROUP), "kind": string(KIND, 63),
                                          "name": string(min_length=1)}, ["group", "kind", "name"])),
}
FILTER = obj(dict({"type": string(enum=list(FILTER_BODIES))},
                  **{field: body for field, body in FILTER_BODIES.values()}), ["type"])
GATEWAY_SCHEMAS = {
    "Gateway": obj({
        "apiVersion": {"const": "gateway.networking.k8s.io/v1"},
        "kind": {"const": "Gateway"},
        "metadata": METADATA,
        "spec": obj({
            "gatewayClassName": string(min_length=1),
            "listeners": arr(obj({
                "name": string(DNS1123_SUBDOMAIN, min_length=1),
                "hostname": string(HOSTNAME),
                "port": PORT,
                # HTTPRoutes attach to HTTP and HTTPS listeners (TLS, TCP, UDP: other routes).
                "protocol": string(enum=["HTTP", "HTTPS"]),
                "tls": obj({
                    "mode": string(enum=["Terminate", "Passthrough"]),
                    "certificateRefs": arr(obj({
                        "group": string(GROUP), "kind": string(KIND, 63),
                        "name": string(min_length=1), "namespace": string(NAMESPACE, 63),
                    }, ["name"]), 64),
                    "options": STRING_MAP,
                }),
                "allowedRoutes": obj({
                    "namespaces": obj({"from": string(enum=["All", "Selector", "Same"]),
                                       "selector": SELECTOR}),
                    "kinds": arr(obj({"group": string(GROUP), "kind": string(KIND, 63, min_length=1)},
                                     ["kind"]), 8),
                }),
            }, ["name", "port", "protocol"]), 64, 1),
            "addresses": arr(obj({"type": string(max_length=253), "value": string(min_length=1)},
                                 ["value"]), 16),
            "infrastructure": obj({
                "labels": STRING_MAP, "annotations": STRING_MAP,
                "parametersRef": obj({"group": string(GROUP), "kind": string(KIND, 63),
                                      "name": string(min_length=1)}, ["group", "kind", "name"]),
            }),
        }, ["gatewayClassName", "listeners"]),
    }, ["apiVersion", "kind", "metadata", "spec"]),
    "HTTPRoute": obj({
        "apiVersion": {"const": "gateway.networking.k8s.io/v1"},
        "kind": {"const": "HTTPRoute"},
        "metadata": METADATA,
        "spec": obj({
            "parentRefs": arr(PARENT_REF, 32, 1),
            "hostnames": arr(string(HOSTNAME, min_length=1), 16),
            "rules": arr(obj({
                "name": string(DNS1123_SUBDOMAIN),
                "matches": arr(obj({
                    # RegularExpression is in the standard channel too, but its syntax is
                    # the implementation's: not portable, so not accepted here.
                    "path": obj({"type": string(enum=["Exact", "PathPrefix"]),
                                 "value": string(max_length=1024, min_length=1)}),
                    "headers": arr(obj({"type": string(enum=["Exact"]),
                                        "name": string(HEADER_NAME, 256, min_length=1),
                                        "value": string(max_length=4096)}, ["name", "value"]), 16),
                    "queryParams": arr(obj({"type": string(enum=["Exact"]),
                                            "name": string(HEADER_NAME, 256, min_length=1),
                                            "value": string(max_length=1024, min_length=1)},
                                           ["name", "value"]), 16),
                    "method": string(enum=METHODS),
                }), 64),
                "filters": arr(FILTER, 16),
                "backendRefs": arr(obj(dict(BACKEND_OBJECT_REF, **{
                    "weight": {"type": "integer", "minimum": 0, "maximum": 1000000},
                    "filters": arr(FILTER, 16),
                }), ["name"]), 16),
                "timeouts": obj({"request": string(DURATION), "backendRequest": string(DURATION)}),
            }), 16, 1),
        }, ["parentRefs", "rules"]),
    }, ["apiVersion", "kind", "metadata", "spec"]),
}
# The CRDs' own rule for Exact and PathPrefix values.
PATH_CHARS = re.compile(r"^(?:[-A-Za-z0-9/._~!$&'()*+,;=:@]|[%][0-9a-fA-F]{2})+$")


def gateway_cel(doc):
    """The CRDs' x-kubernetes-validations (CEL) on the fields above, in Python."""
    problems, spec = [], doc["spec"]
    if doc["kind"] == "Gateway":
        seen_names, seen_triples = set(), set()
        for i, listener in enumerate(spec["listeners"]):
            where = f"spec.listeners[{i}]"
            protocol, tls = listener["protocol"], listener.get("tls")
            if protocol == "HTTP" and tls is not None:
                problems.append(f"{where}: tls must not be specified for protocol HTTP")
            if protocol == "HTTPS":
                if tls is None or tls.get("mode", "Terminate") != "Terminate":
                    problems.append(f"{where}: tls mode must be Terminate for protocol HTTPS")
                elif not tls.get("certificateRefs") and not tls.get("options"):
                    problems.append(f"{where}: certificateRefs or options must be specified when mode is Terminate")
            if listener["name"] in seen_names:
                problems.append(f"{where}: Listener name must be unique within the Gateway")
            seen_names.add(listener["name"])
            triple = (listener["port"], protocol, listener.get("hostname", ""))
            if triple in seen_triples:
                problems.append(f"{where}: Combination of port, protocol and hostname must be unique for each listener")
            seen_triples.add(triple)
        return problems
    parents = collections.defaultdict(list)
    for ref in spec["parentRefs"]:
        parent = (ref.get("group", "gateway.networking.k8s.io"), ref.get("kind", "Gateway"),
                  ref.get("namespace", ""), ref["name"])
        parents[parent].append(ref.get("sectionName"))
    for parent, sections in parents.items():
        if len(sections) > 1 and (None in sections or len(set(sections)) < len(sections)):
            problems.append(f"spec.parentRefs: sectionName must be specified, and unique, when parentRefs "
                            f"includes 2 or more references to the same parent ({parent[3]})")
    total_matches = 0
    for i, rule in enumerate(spec["rules"]):
        total_matches += len(rule.get("matches", [{}]))
        for j, match in enumerate(rule.get("matches", [])):
            value = match.get("path", {}).get("value", "/")
            where = f"spec.rules[{i}].matches[{j}].path.value {value!r}"
            if not value.startswith("/"):
                problems.append(f"{where}: value must be an absolute path and start with '/'")
            for bad in ("//", "/./", "/../", "%2f", "%2F", "#"):
                if bad in value:
                    problems.append(f"{where}: must not contain {bad!r}")
            if value.endswith("/..") or value.endswith("/."):
                problems.append(f"{where}: must not end with '/..' or '/.'")
            if not PATH_CHARS.match(value):
                problems.append(f"{where}: must only contain valid characters ({PATH_CHARS.pattern})")
        for j, ref in enumerate(rule.get("backendRefs", [])):
            if ref.get("kind", "Service") == "Service" and ref.get("group", "") == "" and "port" not in ref:
                problems.append(f"spec.rules[{i}].backendRefs[{j}]: Must have port for Service reference")
        for where, filters in [(f"spec.rules[{i}].filters", rule.get("filters", []))] + [
                (f"spec.rules[{i}].backendRefs[{j}].filters", r.get("filters", []))
                for j, r in enumerate(rule.get("backendRefs", []))]:
            types = [f["type"] for f in filters]
            for t in set(types) - {"ExtensionRef"}:
                if types.count(t) > 1:
                    problems.append(f"{where}: {t} filter cannot be repeated")
            if "RequestRedirect" in types and "URLRewrite" in types:
                problems.append(f"{where}: May specify either RequestRedirect or URLRewrite, but not both")
            for k, f in enumerate(filters):
                for t, (field, _) in FILTER_BODIES.items():
                    if (field in f) != (f["type"] == t):
                        problems.append(f"{where}[{k}]: filter.{field} must be specified for type {t}, and only for it")
        if "RequestRedirect" in [f["type"] for f in rule.get("filters", [])] and rule.get("backendRefs"):
            problems.append(f"spec.rules[{i}]: RequestRedirect filter must not be used together with backendRefs")
        for f in rule.get("filters", []):
            body = f.get("urlRewrite") or f.get("requestRedirect") or {}
            if body.get("path", {}).get("type") == "ReplacePrefixMatch":
                paths = [m.get("path", {}).get("type", "PathPrefix") for m in rule.get("matches", [{}])]
                if paths != ["PathPrefix"]:
                    problems.append(f"spec.rules[{i}]: with path.replacePrefixMatch, exactly one PathPrefix match must be specified")
            for key in ("replaceFullPath", "replacePrefixMatch"):
                wanted = "ReplaceFullPath" if key == "replaceFullPath" else "ReplacePrefixMatch"
                if "path" in body and ((key in body["path"]) != (body["path"]["type"] == wanted)):
                    problems.append(f"spec.rules[{i}]: {key} must be specified when type is {wanted}, and only then")
    if total_matches >= 128:
        problems.append("spec.rules: the total number of matches across all rules in a route must be less than 128")
    return problems


def validate(doc, version):
    """Problems of one object against its schema."""
    name = f"{doc.get('kind', '?')}/{(doc.get('metadata') or {}).get('name', '?')}"
    group = doc.get("apiVersion", "").rpartition("/")[0]
    if group == "gateway.networking.k8s.io":
        schema = GATEWAY_SCHEMAS.get(doc.get("kind"))
        if schema is None:
            return [f"{name}: no schema here for {doc.get('apiVersion')} {doc.get('kind')}"]
        errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(doc), key=lambda e: list(e.absolute_path))
        if errors:
            return [f"{name}: {'.'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}" for e in errors]
        return [f"{name}: {p}" for p in gateway_cel(doc)]
    try:
        kv.validate(doc, version, strict=True)
    except kv.ValidationError as e:
        return [f"{name}: {'.'.join(map(str, e.path))}: {e.message}"]
    except (kv.SchemaNotFoundError, kv.VersionNotSupportedError, kv.InvalidSchemaError) as e:
        return [f"{name}: {e.message}"]
    return []


# --- references within one rendered output ----------------------------------------------
def references(docs):
    problems = []
    by_kind = collections.defaultdict(dict)
    for d in docs:
        by_kind[d["kind"]][(d["metadata"].get("namespace", ""), d["metadata"]["name"])] = d
    # Pod specs: every ConfigMap and Secret they name is in the output, with the keys used,
    # and every *_FILE variable names a file that a mounted Secret item provides.
    for kind in ("Deployment", "StatefulSet"):
        for (ns, name), d in by_kind[kind].items():
            pod = d["spec"]["template"]["spec"]
            volumes = {v["name"]: v for v in pod.get("volumes", [])}
            for claim in d["spec"].get("volumeClaimTemplates", []):
                volumes[claim["metadata"]["name"]] = {"name": claim["metadata"]["name"]}
            for c in pod.get("initContainers", []) + pod["containers"]:
                where = f"{kind}/{name} container {c['name']}"
                for src in c.get("envFrom", []):
                    if "configMapRef" in src and (ns, src["configMapRef"]["name"]) not in by_kind["ConfigMap"]:
                        problems.append(f"{where}: envFrom ConfigMap {src['configMapRef']['name']} is not in the output")
                    if "secretRef" in src and (ns, src["secretRef"]["name"]) not in by_kind["Secret"]:
                        problems.append(f"{where}: envFrom Secret {src['secretRef']['name']} is not in the output")
                files = {}
                for m in c.get("volumeMounts", []):
                    v = volumes.get(m["name"])
                    if v is None:
                        problems.append(f"{where}: mounts {m['name']}, which is not a volume of the pod")
                    elif "secret" in v:
                        for item in v["secret"].get("items", []):
                            files[m["mountPath"].rstrip("/") + "/" + item["path"]] = v["secret"]["secretName"]
                for e in c.get("env", []):
                    ref = (e.get("valueFrom") or {}).get("secretKeyRef") or (e.get("valueFrom") or {}).get("configMapKeyRef")
                    if ref:
                        target_kind = "Secret" if "secretKeyRef" in e["valueFrom"] else "ConfigMap"
                        target = by_kind[target_kind].get((ns, ref["name"]))
                        if target is None:
                            problems.append(f"{where}: {e['name']} from {target_kind} {ref['name']}, which is not in the output")
                        elif ref["key"] not in (target.get("data") or {}):
                            problems.append(f"{where}: {e['name']} from key {ref['key']}, which {target_kind} {ref['name']} does not have")
                    if e["name"].endswith("_FILE") and e.get("value") not in files:
                        problems.append(f"{where}: {e['name']}={e.get('value')} is no file of a mounted Secret item")
            for vname, v in volumes.items():
                for src_kind, field, name_key in (("Secret", "secret", "secretName"), ("ConfigMap", "configMap", "name")):
                    if field not in v:
                        continue
                    target = by_kind[src_kind].get((ns, v[field][name_key]))
                    if target is None:
                        problems.append(f"{kind}/{name} volume {vname}: {src_kind} {v[field][name_key]} is not in the output")
                        continue
                    for item in v[field].get("items", []):
                        if item["key"] not in (target.get("data") or {}):
                            problems.append(f"{kind}/{name} volume {vname}: {src_kind} {v[field][name_key]} has no key {item['key']}")
    # The shared settings are generated (a content hash in the name), so a change rolls the pods.
    generated = [n for (_, n) in by_kind["ConfigMap"] if re.fullmatch(r"identity-config-[a-z0-9]{10}", n)]
    if len(generated) != 1:
        problems.append("no ConfigMap identity-config-<hash> (configMapGenerator) in the output")
    # Routes: parents, listeners, backends, and the one public host.
    issuer_host = None
    if generated:
        issuer = next(d for (_, n), d in by_kind["ConfigMap"].items() if n == generated[0])["data"].get("JWT_ISSUER", "")
        issuer_host = re.sub(r"^[a-z]+://([^/:]+).*$", r"\1", issuer)
    for (ns, name), gw in by_kind["Gateway"].items():
        for listener in gw["spec"]["listeners"]:
            if "hostname" in listener and listener["hostname"] != issuer_host:
                problems.append(f"Gateway/{name} listener {listener['name']}: hostname {listener['hostname']} is not the host of JWT_ISSUER ({issuer_host})")
    for (ns, name), route in by_kind["HTTPRoute"].items():
        where = f"HTTPRoute/{name}"
        if route["spec"].get("hostnames") != [issuer_host]:
            problems.append(f"{where}: hostnames {route['spec'].get('hostnames')} are not [the host of JWT_ISSUER] ([{issuer_host}])")
        for ref in route["spec"]["parentRefs"]:
            if ref.get("group", "gateway.networking.k8s.io") != "gateway.networking.k8s.io" or ref.get("kind", "Gateway") != "Gateway":
                continue
            gw = by_kind["Gateway"].get((ref.get("namespace", ns), ref["name"]))
            if gw is None:
                problems.append(f"{where}: parent Gateway {ref['name']} is not in the output")
                continue
            listeners = [l for l in gw["spec"]["listeners"] if ref.get("sectionName", l["name"]) == l["name"]]
            if not listeners:
                problems.append(f"{where}: Gateway {ref['name']} has no listener {ref['sectionName']}")
            for l in listeners:
                allowed = l.get("allowedRoutes", {})
                admitted = allowed.get("namespaces", {}).get("from", "Same")
                if admitted not in ("Same", "All"):
                    problems.append(f"{where}: listener {l['name']} admits routes from {admitted} namespaces; "
                                    "this check knows Same and All only")
                kinds = [k["kind"] for k in allowed.get("kinds", [])]
                if kinds and "HTTPRoute" not in kinds:
                    problems.append(f"{where}: listener {l['name']} does not admit HTTPRoutes")
        for i, rule in enumerate(route["spec"]["rules"]):
            if not rule.get("backendRefs") and not any(f["type"] == "RequestRedirect" for f in rule.get("filters", [])):
                problems.append(f"{where} rule {i}: no backendRefs (every request would get a 500)")
            for ref in rule.get("backendRefs", []):
                if ref.get("kind", "Service") != "Service" or ref.get("group", "") != "":
                    continue
                svc = by_kind["Service"].get((ref.get("namespace", ns), ref["name"]))
                if svc is None:
                    problems.append(f"{where} rule {i}: backend Service {ref['name']} is not in the output")
                elif ref.get("port") not in [p["port"] for p in svc["spec"]["ports"]]:
                    problems.append(f"{where} rule {i}: Service {ref['name']} has no port {ref.get('port')}")
    return problems



# --- replicas: rolling, drained, spread, no state of their own --------------------------
# Both services run several replicas. users-service's signing keys are in its database
# (sealed with the key-encryption key of its Secret), so no pod has a volume of its own.
REPLICATED = ("users-service", "posts-service")
# The longest request the drain must let finish after SHUTDOWN_DRAIN_SECS: the gateway's
# proxy_read_timeout (deploy/nginx/templates/gateway.conf.template).
LONGEST_REQUEST_SECS = 30


def zero(value):
    return value in (0, "0", "0%")


def labels_select(selector, labels):
    """Whether a matchLabels-only selector selects these labels."""
    match = (selector or {}).get("matchLabels") or {}
    return bool(match) and not (selector or {}).get("matchExpressions") and \
        all(labels.get(k) == v for k, v in match.items())


def replicas(docs):
    problems = []
    by_kind = collections.defaultdict(dict)
    for d in docs:
        by_kind[d["kind"]][(d["metadata"].get("namespace", ""), d["metadata"]["name"])] = d
    config = next((d.get("data") or {} for (_, n), d in by_kind["ConfigMap"].items()
                   if re.fullmatch(r"identity-config-[a-z0-9]{10}", n)), {})
    drain = config.get("SHUTDOWN_DRAIN_SECS", "0")
    if not re.fullmatch(r"[0-9]+", drain):
        problems.append(f"identity-config: SHUTDOWN_DRAIN_SECS={drain!r} is not a number of seconds")
        drain = "0"
    drain = int(drain)
    for (ns, name), claim in by_kind["PersistentVolumeClaim"].items():
        if name.startswith("users-service"):
            problems.append(f"PersistentVolumeClaim/{name}: users-service keeps its keys in the database, not on a volume")
    for svc in REPLICATED:
        found = [(k, d) for k, d in by_kind["Deployment"].items() if k[1] == svc]
        if not found:
            problems.append(f"Deployment/{svc} is not in the output")
            continue
        (ns, _), d = found[0]
        where = f"Deployment/{svc}"
        spec, pod = d["spec"], d["spec"]["template"]["spec"]
        labels = d["spec"]["template"]["metadata"].get("labels") or {}
        count = spec.get("replicas", 1)
        if count < 2:
            problems.append(f"{where}: replicas {count}; at least 2, so one pod lost or rolled leaves one serving")
        strategy = spec.get("strategy") or {}
        rolling = strategy.get("rollingUpdate") or {}
        if strategy.get("type", "RollingUpdate") != "RollingUpdate":
            problems.append(f"{where}: strategy {strategy.get('type')}; RollingUpdate, so a deploy never stops every pod")
        elif not zero(rolling.get("maxUnavailable", "25%")) or zero(rolling.get("maxSurge", "25%")):
            problems.append(f"{where}: rollingUpdate maxUnavailable {rolling.get('maxUnavailable', '25%')}, "
                            f"maxSurge {rolling.get('maxSurge', '25%')}; want 0 and at least 1 (a new pod ready before an old one stops)")
        budgets = [b for (bns, _), b in by_kind["PodDisruptionBudget"].items()
                   if bns == ns and labels_select(b["spec"].get("selector"), labels)]
        if not budgets:
            problems.append(f"{where}: no PodDisruptionBudget selects its pods")
        for b in budgets:
            bspec = b["spec"]
            if "minAvailable" in bspec and isinstance(bspec["minAvailable"], int) and bspec["minAvailable"] >= count:
                problems.append(f"PodDisruptionBudget/{b['metadata']['name']}: minAvailable {bspec['minAvailable']} "
                                f"with {count} replicas lets no node drain")
            if "maxUnavailable" in bspec and zero(bspec["maxUnavailable"]):
                problems.append(f"PodDisruptionBudget/{b['metadata']['name']}: maxUnavailable 0 lets no node drain")
        affinity = (pod.get("affinity") or {}).get("podAntiAffinity")
        spread = [c for c in pod.get("topologySpreadConstraints", [])
                  if c.get("topologyKey") == "kubernetes.io/hostname" and labels_select(c.get("labelSelector"), labels)]
        if not spread and not affinity:
            problems.append(f"{where}: neither topologySpreadConstraints over kubernetes.io/hostname selecting its pods "
                            "nor podAntiAffinity: its replicas may all land on one node")
        for v in pod.get("volumes", []):
            if "persistentVolumeClaim" in v:
                problems.append(f"{where}: volume {v['name']} is a PersistentVolumeClaim; the replicas share nothing but the database")
        grace = pod.get("terminationGracePeriodSeconds", 30)
        reads_config = any("configMapRef" in src for c in pod["containers"] for src in c.get("envFrom", []))
        if reads_config and grace <= drain + LONGEST_REQUEST_SECS:
            problems.append(f"{where}: terminationGracePeriodSeconds {grace} is not above SHUTDOWN_DRAIN_SECS "
                            f"({drain}) + {LONGEST_REQUEST_SECS}: the pod would be killed mid-request")
        for c in pod.get("initContainers", []) + pod["containers"]:
            pre_stop = ((c.get("lifecycle") or {}).get("preStop") or {})
            if "exec" in pre_stop:
                problems.append(f"{where} container {c['name']}: a preStop exec hook, but the image has no shell "
                                "or sleep (FROM scratch); SHUTDOWN_DRAIN_SECS drains instead")
        for c in pod["containers"]:
            probe = (c.get("readinessProbe") or {})
            path = (probe.get("httpGet") or {}).get("path")
            if path != "/health/ready":
                problems.append(f"{where} container {c['name']}: readinessProbe {path!r}, not GET /health/ready")
            elif probe.get("periodSeconds", 10) * probe.get("failureThreshold", 3) > max(drain, 4):
                problems.append(f"{where} container {c['name']}: readinessProbe notices a drain after "
                                f"{probe.get('periodSeconds', 10)} s x {probe.get('failureThreshold', 3)}, "
                                f"longer than SHUTDOWN_DRAIN_SECS ({drain})")
        if svc == "users-service":
            inits = pod.get("initContainers", [])
            init = next((c for c in inits if c.get("args", [])[:2] == ["keys", "init"]), None)
            if init is None:
                problems.append(f"{where}: no init container runs `keys init` (production never makes a key at start)")
            for c in ([init] if init else []) + pod["containers"]:
                names = {e["name"] for e in c.get("env", [])}
                for key in ("DATABASE_URL_FILE", "JWT_KEYS_ENCRYPTION_KEY_FILE"):
                    if key not in names:
                        problems.append(f"{where} container {c['name']}: no {key} (the keys are in the database, sealed with that key)")
                if "JWT_KEYS_DIR" in names:
                    problems.append(f"{where} container {c['name']}: sets JWT_KEYS_DIR; the keys are in the database")
    return problems


# --- the same routes as the compose gateway --------------------------------------------
PERMANENT = {301, 308}


def nginx_locations(template):
    """The template's locations: what each does with a request, and its rate limit."""
    text = re.sub(r"(?m)^\s*#[^\n]*", "", open(template).read())
    # A limit_req zone keyed by a `map $request_method` variable limits only the methods
    # that map gives a non-empty key; any other zone limits every method.
    method_maps = {}
    for var, body in re.findall(r"map\s+\$request_method\s+\$(\w+)\s*\{([^}]*)\}", text):
        method_maps[var] = {m for m, v in re.findall(r"(\w+)\s+(\S+);", body) if m != "default" and v != '""'}
    zone_methods = {zone: method_maps.get(key)
                    for key, zone in re.findall(r"limit_req_zone\s+\$(\w+)\s+zone=(\w+):", text)}
    locations = []
    for modifier, path, body in re.findall(r"location\s+(=\s+)?(/\S*)\s*\{([^}]*)\}", text):
        loc = {"exact": bool(modifier), "path": path, "zone": None, "zone_methods": None}
        proxy = re.search(r"proxy_pass\s+http://\$(\w+)_upstream(/\S*)?;", body)
        redirect = re.search(r"return\s+(30[12378])\s+(/\S*);", body)
        if proxy:
            loc.update(kind="proxy", service=f"{proxy.group(1)}-service", uri=proxy.group(2))
            rewrite = re.search(r"rewrite\s+(\S+)\s+(\S+)\s+break;", body)
            loc["rewrite"] = (rewrite.group(1), re.sub(r"\$(\d)", r"\\\1", rewrite.group(2))) if rewrite else None
            zone = re.search(r"limit_req\s+zone=(\w+)", body)
            if zone:
                loc.update(zone=zone.group(1), zone_methods=zone_methods.get(zone.group(1)))
        elif redirect:
            loc.update(kind="redirect", code=int(redirect.group(1)), target=redirect.group(2))
        elif re.search(r"return\s+404\b", body):
            loc.update(kind="none")
        else:
            loc.update(kind="static")
        locations.append(loc)
    return locations


def nginx_outcome(locations, path):
    """What the compose gateway does with a request for path."""
    exact = [l for l in locations if l["exact"] and l["path"] == path]
    prefixes = [l for l in locations if not l["exact"] and path.startswith(l["path"])]
    loc = exact[0] if exact else max(prefixes, key=lambda l: len(l["path"]), default=None)
    if loc is None or loc["kind"] == "none":
        return None, loc
    if loc["kind"] == "static":
        return ("static",), loc
    if loc["kind"] == "redirect":
        if nginx_outcome(locations, loc["target"])[0] == ("static",):
            return ("static",), loc  # a redirect to a page the gateway writes itself
        return ("redirect", loc["target"], loc["code"] in PERMANENT), loc
    if loc["rewrite"]:
        upstream = re.sub(loc["rewrite"][0], loc["rewrite"][1], path)
    elif loc["uri"]:
        upstream = loc["uri"]  # with variables in proxy_pass, its URI replaces the whole path
    else:
        upstream = path
    return ("proxy", (loc["service"],), upstream), loc


def prefix_hit(value, path):
    prefix = value.rstrip("/")
    return path == prefix or path.startswith(prefix + "/") or value == "/"


def gateway_outcome(docs, path, method):
    """What the HTTPRoutes do with a request, by the Gateway API's precedence (Exact first,
    then the longest prefix, then a method match), and which HTTPRoute does it."""
    best = None
    for d in docs:
        if d["kind"] != "HTTPRoute":
            continue
        for rule in d["spec"]["rules"]:
            for m in rule.get("matches", [{}]):
                p = m.get("path", {})
                ptype, value = p.get("type", "PathPrefix"), p.get("value", "/")
                hit = path == value if ptype == "Exact" else prefix_hit(value, path)
                if not hit or ("method" in m and m["method"] != method):
                    continue
                rank = (ptype == "Exact", len(value), "method" in m)
                if best is None or rank > best[0]:
                    best = (rank, d["metadata"]["name"], rule, ptype, value)
    if best is None:
        return None, None
    _, route, rule, ptype, value = best

    def modified(modifier):
        if not modifier:
            return path
        if modifier["type"] == "ReplaceFullPath":
            return modifier["replaceFullPath"]
        rest = path[len(value.rstrip("/")):]
        replaced = modifier["replacePrefixMatch"].rstrip("/") + rest
        return replaced or "/"

    filters = {f["type"]: f for f in rule.get("filters", [])}
    if "RequestRedirect" in filters:
        redirect = filters["RequestRedirect"]["requestRedirect"]
        return ("redirect", modified(redirect.get("path")), redirect.get("statusCode", 302) in PERMANENT), route
    rewrite = filters.get("URLRewrite", {}).get("urlRewrite", {}).get("path")
    return ("proxy", tuple(r["name"] for r in rule.get("backendRefs", [])), modified(rewrite)), route


def show(outcome):
    if outcome is None:
        return "404 (no route)"
    if outcome[0] == "redirect":
        return f"redirect ({'permanent' if outcome[2] else 'temporary'}) to {outcome[1]}"
    return f"-> {' '.join(outcome[1])} as {outcome[2]}"


def parity(docs, template):
    """Every request either gateway routes is treated alike by both, probed at each
    location of the template and each match of the HTTPRoutes, with GET and POST."""
    problems, notes = [], set()
    locations = nginx_locations(template)
    if not any(l["kind"] == "proxy" for l in locations):
        return [f"{template}: no proxied location found"], notes
    probes = set()
    for l in locations:
        probes.add(l["path"] if l["exact"] else l["path"].rstrip("/") + "/probe")
    for d in docs:
        for rule in d["spec"]["rules"] if d["kind"] == "HTTPRoute" else []:
            for m in rule.get("matches", [{}]):
                p = m.get("path", {})
                probes.add(p["value"] if p.get("type") == "Exact" else p.get("value", "/").rstrip("/") + "/probe")
    zone_routes = collections.defaultdict(set)
    unlimited_routes = set()
    for path in sorted(probes):
        for method in ("GET", "POST"):
            want, loc = nginx_outcome(locations, path)
            got, route = gateway_outcome(docs, path, method)
            if want == ("static",):
                notes.add(loc["path"])
                want = None  # nginx writes the answer itself: nothing to route here
            if want != got:
                problems.append(f"{method} {path}: nginx {show(want)}; "
                                f"{f'HTTPRoute/{route}' if route else 'the HTTPRoutes'} {show(got)}")
                continue
            if got is None or got[0] != "proxy":
                continue
            if loc["zone"] and (loc["zone_methods"] is None or method in loc["zone_methods"]):
                zone_routes[loc["zone"]].add(route)
            else:
                unlimited_routes.add(route)
    # A rate limit policy targets whole HTTPRoutes: each nginx zone is one HTTPRoute that
    # carries nothing unlimited.
    for zone, names in sorted(zone_routes.items()):
        if len(names) != 1:
            problems.append(f"nginx zone {zone}: its requests go by several HTTPRoutes {sorted(names)}; one policy must cover them all")
        for n in sorted(names & unlimited_routes):
            problems.append(f"HTTPRoute/{n} carries requests of nginx zone {zone} and unlimited ones: a rate limit policy on it would limit both")
    return problems, notes


def main():
    mode, version, path = sys.argv[1:4]
    docs = [d for d in yaml.safe_load_all(open(path)) if d]
    problems = [p for d in docs for p in validate(d, version)]
    notes = set()
    if mode == "rendered" and not problems:
        problems += references(docs)
        problems += replicas(docs)
        more, notes = parity(docs, sys.argv[4])
        problems += more
    if problems:
        print("\n".join(problems))
        sys.exit(1)
    kinds = collections.Counter(d["kind"] for d in docs)
    summary = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items()))
    if mode == "rendered":
        summary += "; " + ", ".join(
            f"{svc} {next(d['spec'].get('replicas', 1) for d in docs if d['kind'] == 'Deployment' and d['metadata']['name'] == svc)} replicas"
            for svc in REPLICATED) + " (rolling, drained, budgeted, spread)"
        summary += "; routes as in the nginx gateway"
        if notes:
            summary += f" (except what nginx answers itself: {' '.join(sorted(notes))})"
    print(summary)


if __name__ == "__main__":
    main()

"""Differential etcdctl check: run etcdctl-script.txt against a cluster, record a transcript, normalise it.

Script syntax (etcdctl-script.txt), one step a line; '#' starts a comment line:

    <etcdctl arguments>                 run `etcdctl --endpoints=<all members> <arguments>` (ETCDCTL_API=3);
                                        a line that names --endpoints itself keeps its own
    <etcdctl arguments> <<EOF           the lines up to a line `EOF` are its stdin (txn)
    ... => NAME=path [NAME=path ...]    capture values for later steps: path is a dotted path into the first
                                        JSON document of stdout (`header.revision`, `kvs.0.mod_revision`), or
                                        /regex/ with one group over stdout; a `:hex` suffix turns a decimal into hex;
                                        a capture named M_<X> is the id of a member the script added, normalised
                                        as <m:new-x>
    {NAME}                              a captured value; {ep:n1} is n1's client address, {id:n2} n2's member id (hex)
    @leader n1                          make sure n1 leads (move-leader if not) and every member agrees (not recorded)
    @watch SYNC <watch arguments>       start `etcdctl watch <watch arguments>` in the background; SYNC is a key
      ...steps...                       inside the watched range: it is put until the watch reports it (so the watch
    @end                                is in place), then the steps run, then SYNC is put once more as a fence and
                                        the watch's events up to the fence are recorded (SYNC's own events dropped)

A `member add` refused with etcd's "unhealthy cluster" (its leader not yet connected to every voter for 5 s) is
retried until it is answered otherwise, within 20 s.

The transcript records each step's template (not its substituted values), stdout, stderr (without clientv3's
JSON retry logs) and a non-zero exit status. normalise() then replaces what legitimately differs between two
clusters: revisions, lease ids and raft terms by placeholders numbered in order of first appearance (equal
values stay equal), member ids and addresses by member names, cluster id, raft indexes, db sizes, versions,
durations and remaining TTLs by fixed placeholders; member lists and health lines are sorted.
"""
import base64
import json
import os
import re
import shlex
import subprocess
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.join(HERE, "etcdctl-script.txt")
COMMAND_TIMEOUT = 20


class ScriptError(Exception):
    pass


# ---------------------------------------------------------------------------------------------------------------
# Parsing

def parse_script(path=SCRIPT):
    with open(path) as f:
        lines = f.read().split("\n")
    steps, stack, i = [], [], 0
    current = steps
    while i < len(lines):
        raw = lines[i]
        line = raw.strip()
        i += 1
        if not line or line.startswith("#"):
            continue
        if line.startswith("@leader "):
            current.append({"kind": "leader", "name": line.split()[1]})
            continue
        if line.startswith("@watch "):
            parts = line.split(None, 2)
            block = {"kind": "watch", "sync": parts[1], "template": parts[2], "body": []}
            current.append(block)
            stack.append(current)
            current = block["body"]
            continue
        if line == "@end":
            if not stack:
                raise ScriptError(f"line {i}: @end without @watch")
            current = stack.pop()
            continue
        captures = []
        if " => " in line:
            line, spec = line.split(" => ", 1)
            for item in spec.split():
                name, _, path = item.partition("=")
                captures.append((name, path))
        stdin = None
        if line.endswith("<<EOF"):
            line = line[:-len("<<EOF")].strip()
            body = []
            while i < len(lines) and lines[i].strip() != "EOF":
                body.append(lines[i].strip())
                i += 1
            if i >= len(lines):
                raise ScriptError(f"unterminated <<EOF for {line}")
            i += 1
            stdin = "\n".join(body) + "\n\n"      # etcdctl txn needs a blank line after its last section
        current.append({"kind": "cmd", "template": line.strip(), "stdin": stdin, "captures": captures})
    if stack:
        raise ScriptError("@watch without @end")
    return steps


# ---------------------------------------------------------------------------------------------------------------
# Running

def json_documents(text):
    decoder, docs, pos = json.JSONDecoder(), [], 0
    text = text.strip()
    while pos < len(text):
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if pos >= len(text):
            break
        try:
            doc, pos = decoder.raw_decode(text, pos)
        except ValueError:
            return None
        docs.append(doc)
    return docs


def is_client_log(line):
    return line.startswith('{"level":')


class Runner:
    def __init__(self, endpoints, names, log=print):
        self.endpoints = endpoints            # client addresses, in member order
        self.names = names                    # member names, same order
        self.vars = {}
        self.transcript = []
        self.log = log
        self.member_ids = {}                  # name -> int
        self.added_members = {}               # name -> int: members the script adds (captures named M_<NAME>)
        self.cluster_id = None
        self.env = dict(os.environ, ETCDCTL_API="3")
        self.dead_members = None              # callable -> description of members that exited, or ""
        self.timeouts_in_a_row = 0

    # -- helpers
    def etcdctl(self, args, stdin=None, timeout=COMMAND_TIMEOUT):
        if not any(a.startswith("--endpoints") for a in args):
            args = ["--endpoints=" + ",".join(self.endpoints)] + args
        try:
            done = subprocess.run(["etcdctl"] + args, input=stdin, capture_output=True, text=True,
                                  timeout=timeout, env=self.env)
            return done.returncode, done.stdout, done.stderr
        except subprocess.TimeoutExpired as e:
            return "timeout", (e.stdout or b"").decode() if isinstance(e.stdout, bytes) else (e.stdout or ""), \
                "timed out after %ss" % timeout

    def substitute_text(self, line):
        return re.sub(r"\{([A-Za-z0-9_:]+)\}", lambda m: self.substitute("{" + m.group(1) + "}")[0], line)

    def substitute(self, template):
        def value(match):
            key = match.group(1)
            if key.startswith("ep:"):
                return self.endpoints[self.names.index(key[3:])]
            if key.startswith("id:"):
                return "%x" % self.member_ids[key[3:]] if key[3:] in self.member_ids else f"MISSING-{key}"
            if key not in self.vars:
                return f"MISSING-{key}"       # its capture failed (recorded); the step still runs
            return str(self.vars[key])
        return [re.sub(r"\{([A-Za-z0-9_:]+)\}", value, arg) for arg in shlex.split(template)]

    def discover(self, deadline=30):
        """Member ids and cluster id, from `member list -w json` (retried until the cluster answers)."""
        limit = time.monotonic() + deadline
        while True:
            rc, out, err = self.etcdctl(["member", "list", "-w", "json"], timeout=10)
            docs = json_documents(out) if rc == 0 else None
            if docs:
                members = docs[0].get("members", [])
                if len(members) == len(self.names) and all(m.get("name") for m in members):
                    self.member_ids = {m["name"]: int(m["ID"]) for m in members}
                    self.cluster_id = int(docs[0]["header"]["cluster_id"])
                    return
            if time.monotonic() > limit:
                raise ScriptError(f"member list never answered with {len(self.names)} named members: rc={rc} "
                                  f"stdout={out!r} stderr={err!r}")
            time.sleep(0.2)

    def statuses(self):
        rc, out, err = self.etcdctl(["endpoint", "status", "-w", "json"], timeout=10)
        docs = json_documents(out) if rc == 0 else None
        if not docs:
            return None
        return {entry["Endpoint"]: entry["Status"] for entry in docs[0]}

    def ensure_leader(self, name, deadline=20):
        if name not in self.member_ids:
            raise ScriptError(f"@leader {name}: member id unknown (member list failed)")
        want = self.member_ids[name]
        limit = time.monotonic() + deadline
        moved = False
        while True:
            statuses = self.statuses()
            if statuses and len(statuses) == len(self.endpoints):
                leaders = {int(s.get("leader", 0)) for s in statuses.values()}
                if leaders == {want}:
                    return
                if not moved and len(leaders) == 1 and 0 not in leaders:
                    rc, out, err = self.etcdctl(["move-leader", "%x" % want])
                    self.log(f"  (@leader {name}: move-leader -> rc={rc} {out.strip()} {err.strip()})")
                    moved = True
            if time.monotonic() > limit:
                raise ScriptError(f"@leader {name}: members report leaders "
                                  f"{statuses and {k: v.get('leader') for k, v in statuses.items()}} after {deadline}s")
            time.sleep(0.1)

    def capture(self, step, out):
        for name, path in step["captures"]:
            to_hex = path.endswith(":hex")
            if to_hex:
                path = path[:-4]
            if path.startswith("/") and path.endswith("/"):
                match = re.search(path[1:-1], out)
                if not match:
                    raise ScriptError(f"capture {name}: {path} not found in output of `{step['template']}`: {out!r}")
                value = match.group(1)
            else:
                docs = json_documents(out)
                if not docs:
                    raise ScriptError(f"capture {name}: output of `{step['template']}` is not JSON: {out!r}")
                value = docs[0]
                for part in path.split("."):
                    try:
                        value = value[int(part)] if isinstance(value, list) else value[part]
                    except (KeyError, IndexError, ValueError, TypeError):
                        raise ScriptError(f"capture {name}: no {path} in output of `{step['template']}`: {out!r}")
            if to_hex:
                value = "%x" % int(value)
            self.vars[name] = value
            if name.startswith("M_"):
                # A member the script added: its id differs between clusters, so it is normalised by name.
                self.added_members["new-" + name[2:].lower()] = int(value, 16) if to_hex else int(value)

    def record(self, header, rc, out, err):
        if rc != 0 and ("context deadline exceeded" in err or rc == "timeout"):
            self.timeouts_in_a_row += 1
        else:
            self.timeouts_in_a_row = 0
        self.transcript.append(header)
        self.transcript.extend(out.rstrip("\n").split("\n") if out.strip() else [])
        for line in err.rstrip("\n").split("\n") if err.strip() else []:
            if not is_client_log(line):
                self.transcript.append("! " + line)
        if rc != 0:
            self.transcript.append(f"[exit {rc}]")

    # -- steps
    def run(self, steps):
        """Run every step; a harness-level problem (a capture or @leader that fails) is recorded in the transcript as
        a `[harness: ...]` line and the script goes on, so one broken answer does not hide the rest."""
        try:
            self.discover()
        except ScriptError as error:
            self.transcript.append(f"[harness: {error}]")
        for step in steps:
            dead = self.dead_members() if self.dead_members else None
            if dead:
                self.transcript.append(f"[harness: stopped: member(s) exited during the script: {dead}]")
                raise ScriptError(f"member(s) exited during the script: {dead}")
            if self.timeouts_in_a_row >= 6:
                self.transcript.append("[harness: stopped: 6 commands in a row timed out; the cluster does not answer]")
                raise ScriptError("6 etcdctl commands in a row timed out (context deadline exceeded); stopped the script")
            try:
                self.step(step)
            except ScriptError as error:
                self.transcript.append(f"[harness: {error}]")
        return self.transcript

    def step(self, step):
        if step["kind"] == "leader":
            self.ensure_leader(step["name"])
        elif step["kind"] == "cmd":
            args = self.substitute(step["template"])
            stdin = step["stdin"]
            if stdin is not None:
                stdin = "\n".join(self.substitute_text(l) for l in stdin.split("\n"))
            rc, out, err = self.etcdctl(args, stdin)
            if args[:2] == ["member", "add"]:
                rc, out, err = self.retry_unhealthy(args, stdin, rc, out, err)
            header = "$ etcdctl " + step["template"]
            if step["stdin"] is not None:
                header += "  <<< " + " | ".join(step["stdin"].rstrip("\n").split("\n"))
            self.record(header, rc, out, err)
            if rc == 0 and step["captures"]:
                self.capture(step, out)
        elif step["kind"] == "watch":
            self.watch(step)

    def retry_unhealthy(self, args, stdin, rc, out, err, deadline=20):
        """etcd refuses a member add with "unhealthy cluster" until its leader has been connected to every voter
        for 5 s (mayAddMember, HealthInterval), which a recent leadership move resets. That is etcd's readiness,
        not an answer to compare: retry until the cluster is past it (the last attempt is recorded)."""
        limit = time.monotonic() + deadline
        while rc != 0 and "etcdserver: unhealthy cluster" in err and time.monotonic() < limit:
            time.sleep(0.2)
            rc, out, err = self.etcdctl(args, stdin)
        return rc, out, err

    def watch(self, step):
        args = self.substitute(step["template"])
        json_mode = "json" in args and ("-w" in args or "--write-out" in args) or "--write-out=json" in args \
            or "-w=json" in args
        sync = step["sync"]
        proc = subprocess.Popen(["etcdctl", "--endpoints=" + ",".join(self.endpoints), "watch"] + args,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=self.env)
        lines, errs, cond = [], [], threading.Condition()

        def pump(stream, into):
            for line in stream:
                with cond:
                    into.append(line.rstrip("\n"))
                    cond.notify_all()
            with cond:
                cond.notify_all()

        threads = [threading.Thread(target=pump, args=(proc.stdout, lines), daemon=True),
                   threading.Thread(target=pump, args=(proc.stderr, errs), daemon=True)]
        for t in threads:
            t.start()

        def seen(value):
            for line in lines:
                if json_mode:
                    docs = json_documents(line) or []
                    for doc in docs:
                        for ev in doc.get("Events") or []:
                            kv = ev.get("kv", {})
                            if b64(kv.get("key")) == sync and b64(kv.get("value")) == value:
                                return True
                elif line == value and sync in lines:
                    return True
            return False

        def put_and_wait(value, attempts):
            for _ in range(attempts):
                rc, out, err = self.etcdctl(["put", sync, value])
                if rc != 0:
                    raise ScriptError(f"@watch: put {sync} failed: {err.strip()}")
                limit = time.monotonic() + 2
                with cond:
                    while not seen(value) and proc.poll() is None and time.monotonic() < limit:
                        cond.wait(0.05)
                    if seen(value):
                        return True
                if proc.poll() is not None:
                    return False
            return False

        try:
            synced = put_and_wait("sync", 5)
            for inner in step["body"]:
                self.step(inner)
            fenced = put_and_wait("fence", 3) if synced else False
            exited = proc.poll()
        finally:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(5)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(5)
        for t in threads:
            t.join(5)
        self.etcdctl(["del", sync])
        self.transcript.append(f"$ etcdctl watch {step['template']}  (background, events until the fence)")
        if json_mode:
            events = watch_json_events(lines, sync)
        else:
            events = watch_text_events(lines, sync)
        self.transcript.extend("  " + e for e in events)
        for line in errs:
            if not is_client_log(line):
                self.transcript.append("! " + line)
        if exited is not None:
            self.transcript.append(f"[watch exited {exited}]")
        elif not synced:
            self.transcript.append("[watch never reported the sync key]")
        elif not fenced:
            self.transcript.append("[watch never reported the fence]")


def b64(value):
    if value is None:
        return None
    try:
        return base64.b64decode(value).decode(errors="replace")
    except Exception:
        return value


def watch_json_events(lines, sync):
    """One JSON line per event (batching into responses is not compared), plus cancel/compaction notices."""
    out = []
    for line in lines:
        docs = json_documents(line)
        if docs is None:
            out.append(line)
            continue
        for doc in docs:
            for ev in doc.get("Events") or []:
                if b64(ev.get("kv", {}).get("key")) == sync:
                    continue
                out.append(json.dumps(ev, sort_keys=True))
            if doc.get("Canceled") or doc.get("CompactRevision"):
                out.append(json.dumps({k: doc.get(k) for k in ("Canceled", "CompactRevision")}, sort_keys=True))
    return out


def watch_text_events(lines, sync):
    """Blocks of `PUT|DELETE`, [prev key, prev value], key, value, without the sync key's; other lines as they are."""
    out, block = [], []

    def flush():
        if block and sync not in block[1:]:
            out.extend(block)
    for line in lines:
        if line in ("PUT", "DELETE"):
            flush()
            block = [line]
        elif block:
            block.append(line)
        else:
            out.append(line)
    flush()
    return out


# ---------------------------------------------------------------------------------------------------------------
# Normalising

class Normaliser:
    def __init__(self, describe, member_ids, cluster_id):
        self.client = {n["client"]: n["name"] for n in describe["nodes"]}
        self.peer = {n["peer"]: n["name"] for n in describe["nodes"]}
        self.members = {v: k for k, v in member_ids.items()}     # int -> name
        self.cluster_id = cluster_id
        self.classes = {"rev": {}, "lease": {}, "term": {}}

    def placeholder(self, cls, value):
        table = self.classes[cls]
        if value not in table:
            table[value] = f"<{cls}{len(table) + 1}>"
        return table[value]

    def rev(self, v):
        v = int(v)
        return "0" if v == 0 else self.placeholder("rev", v)

    def lease(self, v):
        v = int(v)
        return "0" if v == 0 else self.placeholder("lease", v)

    def member(self, v):
        v = int(v)
        if v in self.members:
            return f"<m:{self.members[v]}>"
        return f"<unknown-member {v:x}>"

    # -- text
    def addresses(self, s):
        def repl(m):
            addr = m.group(0)
            if addr in self.client:
                return f"<client:{self.client[addr]}>"
            if addr in self.peer:
                return f"<peer:{self.peer[addr]}>"
            return "<addr?>"
        return re.sub(r"127\.0\.0\.1:\d+", repl, s)

    def text(self, s):
        s = self.addresses(s)
        # etcdctl prints member and cluster ids with %16x: a shorter id is padded with spaces, not an answer.
        s = re.sub(r"\b(Member|cluster) +([0-9a-f]{1,16})\b", r"\1 \2", s)

        def hexid(m):
            v = int(m.group(0), 16)
            if v in self.members:
                return f"<m:{self.members[v]}>"
            if v == self.cluster_id:
                return "<cluster>"
            if len(m.group(0)) == 16:
                return self.lease(v)
            return m.group(0)
        s = re.sub(r"\b[0-9a-f]{12,16}\b", hexid, s)
        s = re.sub(r"took = \S+", "took = <dur>", s)

        def remaining(m):
            granted, left = int(m.group(1)), int(m.group(2))
            shown = "<R>" if 0 <= left <= granted else str(left)
            return f"TTL({granted}s), remaining({shown}s)"
        s = re.sub(r"TTL\((\d+)s\), remaining\((-?\d+)s\)", remaining, s)
        s = re.sub(r"attached keys\(\[([^\]]*)\]\)", lambda m: "attached keys([" + " ".join(sorted(m.group(1).split())) + "])", s)
        s = re.sub(r"compacted revision (\d+)", lambda m: "compacted revision " + self.rev(m.group(1)), s)
        return s

    # -- json
    def json_value(self, value, key=None, parent=None, single_endpoint=False):
        if isinstance(value, dict):
            out = {}
            for k, v in value.items():
                out[k] = self.json_field(k, v, value, single_endpoint)
            if "members" in out and isinstance(out["members"], list):
                out["members"].sort(key=lambda m: json.dumps(m, sort_keys=True))
            if "granted-ttl" in value and isinstance(out.get("keys"), list):
                out["keys"].sort()       # etcd lists a lease's keys in map order
            if "leases" in out and isinstance(out["leases"], list):
                out["leases"].sort(key=lambda m: json.dumps(m, sort_keys=True))
            return out
        if isinstance(value, list):
            return [self.json_value(v, key, parent, single_endpoint) for v in value]
        if isinstance(value, str):
            return self.addresses(value)
        return value

    def json_field(self, k, v, parent, single_endpoint):
        if isinstance(v, (dict, list)):
            # Status objects of `endpoint status` belong to one endpoint: their header names a definite member.
            return self.json_value(v, k, parent, single_endpoint or k == "Status")
        if not isinstance(v, (int, float)) or isinstance(v, bool):
            if k in ("version",) and isinstance(v, str):
                return "<version>"
            if k == "took":
                return "<dur>"
            return self.json_value(v, k, parent, single_endpoint)
        if k == "cluster_id":
            return "<cluster>" if int(v) == self.cluster_id else f"<unknown-cluster {v}>"
        if k == "member_id":
            if not single_endpoint:
                return "<member>" if int(v) in self.members else f"<unknown-member {int(v):x}>"
            return self.member(v)
        if k == "leader":
            return self.member(v)
        if k in ("ID", "id"):
            return self.member(v) if int(v) in self.members else self.lease(v)
        if k == "lease":
            return self.lease(v)
        if k in ("revision", "create_revision", "mod_revision", "compact_revision", "CompactRevision"):
            return self.rev(v)
        if k in ("raft_term", "raftTerm"):
            return self.placeholder("term", int(v))
        if k in ("raftIndex", "raftAppliedIndex"):
            return "<index>"
        if k in ("dbSize", "dbSizeInUse"):
            return "<size>"
        if k == "ttl" and "granted-ttl" in parent:
            return "<R>" if 0 <= v <= parent["granted-ttl"] else v
        return v

    # -- a whole step
    def step(self, header, body):
        command = header[len("$ etcdctl "):] if header.startswith("$ etcdctl ") else header
        args = command.split()
        single = any(a.startswith("--endpoints") for a in args) and "," not in command.split("--endpoints", 1)[1].split()[0]
        out = []
        docs = json_documents("\n".join(l for l in body if not l.startswith(("! ", "[exit")))) \
            if ("-w json" in command or "--write-out=json" in command) and "watch" not in args[:1] else None
        if docs:
            for doc in docs:
                doc = self.json_value(doc, single_endpoint=single)
                if isinstance(doc, list) and doc and isinstance(doc[0], dict) and ("endpoint" in doc[0] or "Endpoint" in doc[0]):
                    doc.sort(key=lambda d: json.dumps(d, sort_keys=True))
                out.append(json.dumps(doc, sort_keys=True))
            out.extend(self.text(l) for l in body if l.startswith(("! ", "[exit")))
            return out
        table_header = None
        for line in body:
            if line.startswith("|"):
                cells = [c.strip() for c in line.strip().strip("|").split("|")]
                if table_header is None:
                    table_header = cells
                    out.append("| " + " | ".join(cells) + " |")
                else:
                    out.append(self.table_row(cells, table_header))
            elif line.startswith("  {"):       # json watch events
                ev = json_documents(line)
                out.append("  " + json.dumps(self.json_value(ev[0]), sort_keys=True) if ev else self.text(line))
            elif line.startswith("+-"):
                continue
            elif args[:2] == ["endpoint", "status"] and line.count(", ") >= 8:
                f = line.split(", ")
                f[2], f[3], f[7], f[8] = "<version>", "<size>", "<index>", "<index>"
                f[6] = self.placeholder("term", int(f[6]))
                out.append(self.text(", ".join(f)))
            else:
                out.append(self.text(line))
        if args[:2] in (["member", "list"], ["endpoint", "health"], ["endpoint", "status"]):
            # Rows come in member-id or completion order, which differ between clusters.
            heads = out[:1] if out and out[0].startswith("| ") and table_header else []
            tails = [l for l in out if l.startswith("[exit")]
            rows = [l for l in out[len(heads):] if not l.startswith("[exit")]
            out = heads + sorted(rows) + tails
        if args[:2] == ["lease", "list"] and out:
            out = out[:1] + sorted(out[1:])
        return out

    def table_row(self, cells, header):
        out = []
        for name, cell in zip(header, cells):
            if name == "VERSION":
                cell = "<version>"
            elif name == "DB SIZE":
                cell = "<size>"
            elif name == "RAFT TERM" and cell.isdigit():
                cell = self.placeholder("term", int(cell))
            elif name in ("RAFT INDEX", "RAFT APPLIED INDEX"):
                cell = "<index>"
            elif name == "TOOK":
                cell = "<dur>"
            else:
                cell = self.text(cell)
            out.append(cell)
        return "| " + " | ".join(out) + " |"


def normalise(transcript, normaliser):
    """Normalise a transcript step by step (a step is its `$` header line and the lines after it)."""
    out, header, body = [], None, []

    def flush():
        if header is not None:
            out.append(normaliser.text(header) if not header.startswith("$ etcdctl ") else header)
            out.extend(normaliser.step(header, body))
    for line in transcript:
        if line.startswith("$ "):
            flush()
            header, body = line, []
        elif header is None:
            out.append(normaliser.text(line))
        else:
            body.append(line)
    flush()
    return out

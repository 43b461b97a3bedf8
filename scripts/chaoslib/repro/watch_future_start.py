"""Reproduces a Roster server bug found by the chaos suite (watch_before_start):
a watch opened with from_revision=R+1 on a follower that restarted behind R (and has not caught up yet)
delivers events at revisions <= R once the follower catches up. Loopback only, ports 25502-25507.

    python3 scripts/chaoslib/repro/watch_future_start.py .build/release/roster
"""
import json, os, shutil, subprocess, sys, time, http.client
B = sys.argv[1]; D = "/tmp/repro-watch"; shutil.rmtree(D, ignore_errors=True); os.makedirs(D)
ports = {i: (25500 + 2 * i, 25501 + 2 * i) for i in (1, 2, 3)}
ic = ",".join(f"n{i}=127.0.0.1:{p[1]}" for i, p in ports.items())
procs = {}
def start(i):
    procs[i] = subprocess.Popen([B, "--name", f"n{i}", "--data-dir", f"{D}/n{i}", "--client-addr", f"127.0.0.1:{ports[i][0]}",
        "--peer-addr", f"127.0.0.1:{ports[i][1]}", "--initial-cluster", ic], stdout=open(f"{D}/n{i}.log", "a"), stderr=subprocess.STDOUT)
def req(i, m, p, b=None):
    for _ in range(50):
        try: return req1(i, m, p, b)
        except OSError: time.sleep(0.2)
def req1(i, m, p, b=None):
    c = http.client.HTTPConnection("127.0.0.1", ports[i][0], timeout=3)
    c.request(m, p, body=json.dumps(b) if b else None, headers={"Content-Type": "application/json"} if b else {})
    r = c.getresponse(); return r.status, json.loads(r.read() or b"null")
try:
    for i in ports: start(i)
    time.sleep(5)
    for n in range(5): print(req(1, "PUT", f"/v1/kv/k{n}", {"value": f"a{n}"}))
    procs[3].kill(); procs[3].wait()
    for n in range(300): st, body = req(1, "PUT", f"/v1/kv/k{n % 5}", {"value": f"b{n}"})
    R = body["revision"]; print("revision now", R)
    start(3)
    deadline = time.time() + 10; got = []
    while time.time() < deadline and not got:
        try:
            c = http.client.HTTPConnection("127.0.0.1", ports[3][0], timeout=2)
            c.request("GET", f"/v1/watch?prefix=&from_revision={R + 1}&progress_interval=1s"); r = c.getresponse()
            if r.status != 200: time.sleep(0.02); continue
            t = time.time()
            while time.time() < t + 2:
                line = r.readline()
                if not line: break
                got.append(json.loads(line))
                if "error" in got[-1]: break
            if all("error" in g for g in got): got = []
        except OSError: time.sleep(0.02)
    for g in got[:6]: print("line", g)
    below = [g for g in got if "revision" in g and "type" in g and g["revision"] <= R]
    print(f"watch from_revision={R + 1} on restarted n3 delivered {len(below)} events at revisions <= {R}")
finally:
    for p in procs.values(): p.kill()

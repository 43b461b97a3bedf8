#!/usr/bin/env python3
"""Prints the golden byte vectors pasted into Tests/EtcdAPITests/EtcdAPIGoldenTests.swift.

Not run by `swift test`; it lives here rather than in the test directory because SwiftPM warns about
non-Swift files in a target that does not exclude them.

The bytes come from protobuf's own Python runtime (python3-protobuf 4.21) over etcd 3.4.23's real
.proto files, so they are what etcdctl, clientv3 and python3-etcd3 put on the wire. python3-etcd3 ships
generated modules too (etcd3.etcdrpc), but from an older schema without watch_id, fragment,
LeaseCheckpoint, MemberPromote and StatusResponse's newer fields; so this script compiles the 3.4
files with protoc instead, and cross-checks every message the old modules also know.

Run:  python3 scripts/etcd-golden-vectors.py   (needs protoc, python3-protobuf,
      golang-etcd-server-dev for the .proto sources and, for the cross-check, python3-etcd3)
"""
import importlib
import os
import re
import subprocess
import sys
import tempfile

ETCD = "/usr/share/gocode/src/go.etcd.io/etcd"
SOURCES = {"kv.proto": "mvcc/mvccpb/kv.proto", "auth.proto": "auth/authpb/auth.proto",
           "rpc.proto": "etcdserver/etcdserverpb/rpc.proto"}


def compile_protos():
    """Copies the .proto files without gogoproto and HTTP annotations, compiles them, imports them."""
    out = tempfile.mkdtemp()
    for name, rel in SOURCES.items():
        text = open(os.path.join(ETCD, rel)).read()
        text = re.sub(r'import "gogoproto/gogo.proto";|import "google/api/annotations.proto";', "", text)
        text = re.sub(r"option \(gogoproto\.\w+\) = \w+;", "", text)
        text = re.sub(r"\[\(gogoproto\.[^\]]*\]", "", text)
        text = re.sub(r"option \(google\.api\.http\) = \{.*?\};", "", text, flags=re.S)
        text = text.replace('import "etcd/mvcc/mvccpb/kv.proto";', 'import "kv.proto";')
        text = text.replace('import "etcd/auth/authpb/auth.proto";', 'import "auth.proto";')
        open(os.path.join(out, name), "w").write(text)
    subprocess.check_call(["protoc", "-I", out, "--python_out", out] + list(SOURCES), cwd=out)
    sys.path.insert(0, out)
    return importlib.import_module("kv_pb2"), importlib.import_module("auth_pb2"), importlib.import_module("rpc_pb2")


kv, auth, rpc = compile_protos()


def header():
    return rpc.ResponseHeader(cluster_id=14841639068965178418, member_id=10276657743932975437, revision=42, raft_term=3)


def key_value(suffix=b""):
    return kv.KeyValue(key=b"/svc/a" + suffix, create_revision=5, mod_revision=7, version=2, value=b"10.0.0.1:80",
                       lease=7587862093416355329)


VECTORS = [
    ("KeyValue", key_value()),
    ("Event", kv.Event(type=kv.Event.DELETE, kv=key_value(), prev_kv=key_value(b"2"))),
    ("ResponseHeader", header()),
    ("RangeRequest", rpc.RangeRequest(
        key=b"/svc/", range_end=b"/svc0", limit=10, revision=40, sort_order=rpc.RangeRequest.DESCEND,
        sort_target=rpc.RangeRequest.MOD, serializable=True, keys_only=True, count_only=True, min_mod_revision=1,
        max_mod_revision=2, min_create_revision=3, max_create_revision=4)),
    ("RangeResponse", rpc.RangeResponse(header=header(), kvs=[key_value(), key_value(b"2")], more=True, count=2)),
    ("PutRequest", rpc.PutRequest(key=b"k", value=b"v", lease=-1, prev_kv=True, ignore_value=True, ignore_lease=True)),
    ("PutResponse", rpc.PutResponse(header=header(), prev_kv=key_value())),
    ("DeleteRangeRequest", rpc.DeleteRangeRequest(key=b"a", range_end=b"\x00", prev_kv=True)),
    ("DeleteRangeResponse", rpc.DeleteRangeResponse(header=header(), deleted=2, prev_kvs=[key_value()])),
    ("Compare.value", rpc.Compare(result=rpc.Compare.NOT_EQUAL, target=rpc.Compare.VALUE, key=b"k", value=b"",
                                  range_end=b"z")),
    ("Compare.version", rpc.Compare(result=rpc.Compare.EQUAL, target=rpc.Compare.VERSION, key=b"k", version=0)),
    ("Compare.lease", rpc.Compare(result=rpc.Compare.LESS, target=rpc.Compare.LEASE, key=b"k", lease=9)),
    ("TxnRequest", rpc.TxnRequest(
        compare=[rpc.Compare(result=rpc.Compare.GREATER, target=rpc.Compare.MOD, key=b"k", mod_revision=3),
                 rpc.Compare(target=rpc.Compare.CREATE, key=b"k", create_revision=0)],
        success=[rpc.RequestOp(request_put=rpc.PutRequest(key=b"k", value=b"v")),
                 rpc.RequestOp(request_txn=rpc.TxnRequest(failure=[rpc.RequestOp(request_range=rpc.RangeRequest(
                     key=b"k"))]))],
        failure=[rpc.RequestOp(request_delete_range=rpc.DeleteRangeRequest(key=b"k")),
                 rpc.RequestOp(request_range=rpc.RangeRequest())])),
    ("TxnResponse", rpc.TxnResponse(header=header(), succeeded=True, responses=[
        rpc.ResponseOp(response_range=rpc.RangeResponse(count=1)),
        rpc.ResponseOp(response_put=rpc.PutResponse()),
        rpc.ResponseOp(response_delete_range=rpc.DeleteRangeResponse(deleted=1)),
        rpc.ResponseOp(response_txn=rpc.TxnResponse(succeeded=True))])),
    ("CompactionRequest", rpc.CompactionRequest(revision=100, physical=True)),
    ("CompactionResponse", rpc.CompactionResponse(header=header())),
    ("LeaseGrantRequest", rpc.LeaseGrantRequest(TTL=30, ID=7587862093416355329)),
    ("LeaseGrantResponse", rpc.LeaseGrantResponse(header=header(), ID=1, TTL=30, error="e")),
    ("LeaseRevokeRequest", rpc.LeaseRevokeRequest(ID=-2)),
    ("LeaseKeepAliveRequest", rpc.LeaseKeepAliveRequest(ID=7587862093416355329)),
    ("LeaseKeepAliveResponse", rpc.LeaseKeepAliveResponse(header=header(), ID=5, TTL=29)),
    ("LeaseTimeToLiveRequest", rpc.LeaseTimeToLiveRequest(ID=5, keys=True)),
    ("LeaseTimeToLiveResponse", rpc.LeaseTimeToLiveResponse(header=header(), ID=5, TTL=-1, grantedTTL=60,
                                                            keys=[b"a", b"", b"c"])),
    ("LeaseLeasesResponse", rpc.LeaseLeasesResponse(header=header(), leases=[rpc.LeaseStatus(ID=1),
                                                                           rpc.LeaseStatus(ID=2)])),
    ("LeaseCheckpointRequest", rpc.LeaseCheckpointRequest(checkpoints=[rpc.LeaseCheckpoint(ID=1, remaining_TTL=9)])),
    ("WatchRequest.create", rpc.WatchRequest(create_request=rpc.WatchCreateRequest(
        key=b"/svc/", range_end=b"/svc0", start_revision=12, progress_notify=True,
        filters=[rpc.WatchCreateRequest.NOPUT, rpc.WatchCreateRequest.NODELETE], prev_kv=True, watch_id=3,
        fragment=True))),
    ("WatchRequest.cancel", rpc.WatchRequest(cancel_request=rpc.WatchCancelRequest(watch_id=3))),
    ("WatchRequest.progress", rpc.WatchRequest(progress_request=rpc.WatchProgressRequest())),
    ("WatchResponse", rpc.WatchResponse(
        header=header(), watch_id=3, created=True, canceled=True, compact_revision=9, cancel_reason="compacted ü",
        fragment=True, events=[kv.Event(type=kv.Event.PUT, kv=key_value())])),
    ("MemberAddRequest", rpc.MemberAddRequest(peerURLs=["http://10.0.0.1:2380", "http://10.0.0.2:2380"],
                                              isLearner=True)),
    ("MemberListResponse", rpc.MemberListResponse(header=header(), members=[rpc.Member(
        ID=10276657743932975437, name="n1", peerURLs=["http://a:2380"], clientURLs=["http://a:2379", "http://b:2379"],
        isLearner=True)])),
    ("MemberPromoteRequest", rpc.MemberPromoteRequest(ID=10276657743932975437)),
    ("StatusResponse", rpc.StatusResponse(
        header=header(), version="3.4.23", dbSize=20480, leader=10276657743932975437, raftIndex=50, raftTerm=3,
        raftAppliedIndex=49, errors=["a", "b"], dbSizeInUse=16384, isLearner=True)),
    ("AlarmRequest", rpc.AlarmRequest(action=rpc.AlarmRequest.DEACTIVATE, memberID=1, alarm=rpc.CORRUPT)),
    ("AlarmResponse", rpc.AlarmResponse(header=header(), alarms=[rpc.AlarmMember(memberID=1, alarm=rpc.NOSPACE)])),
    ("HashKVResponse", rpc.HashKVResponse(header=header(), hash=4294967295, compact_revision=7)),
    ("SnapshotResponse", rpc.SnapshotResponse(header=header(), remaining_bytes=1024, blob=b"\x00\x01\xff")),
    ("MoveLeaderRequest", rpc.MoveLeaderRequest(targetID=2)),
    ("AuthenticateRequest", rpc.AuthenticateRequest(name="root", password="pässword")),
    ("AuthenticateResponse", rpc.AuthenticateResponse(header=header(), token="tok.1")),
    ("AuthUserAddRequest", rpc.AuthUserAddRequest(name="u", password="p",
                                                  options=auth.UserAddOptions(no_password=True))),
    ("AuthUserGrantRoleRequest", rpc.AuthUserGrantRoleRequest(user="u", role="r")),
    ("AuthRoleGrantPermissionRequest", rpc.AuthRoleGrantPermissionRequest(name="r", perm=auth.Permission(
        permType=auth.Permission.READWRITE, key=b"/a", range_end=b"/b"))),
    ("AuthRoleGetResponse", rpc.AuthRoleGetResponse(header=header(), perm=[auth.Permission(permType=auth.Permission.WRITE,
                                                                                          key=b"k")])),
    ("AuthUserListResponse", rpc.AuthUserListResponse(header=header(), users=["a", "b"])),
    ("User", auth.User(name=b"u", password=b"hash", roles=["r1", "r2"], options=auth.UserAddOptions(no_password=True))),
    ("Role", auth.Role(name=b"r", keyPermission=[auth.Permission(permType=auth.Permission.READ, key=b"k")])),
]


CROSS_CHECK = """
import sys
from etcd3.etcdrpc import rpc_pb2
same = 0
for line in sys.stdin:
    type_name, data = line.split()
    old = getattr(rpc_pb2, type_name, None)
    if old is not None:
        message = old.FromString(bytes.fromhex(data))
        same += message.SerializeToString().hex() == data and not message.UnknownFields()
print(same)
"""


def cross_check():
    """Messages whose fields the old python3-etcd3 modules also know must re-serialize identically there.

    Runs in a subprocess because both schemas register "kv.proto" in protobuf's default pool.
    """
    lines = "".join("%s %s\n" % (type(m).__name__, m.SerializeToString().hex())
                    for _, m in VECTORS if type(m).DESCRIPTOR.file.name == "rpc.proto")
    result = subprocess.run([sys.executable, "-c", CROSS_CHECK], input=lines, capture_output=True, text=True)
    if result.returncode != 0:
        print("// cross-check skipped (python3-etcd3 missing?): " + result.stderr.strip().splitlines()[-1])
        return
    print("// %s vectors re-serialize identically with python3-etcd3's etcd3.etcdrpc modules" % result.stdout.strip())


for name, message in VECTORS:
    print('("%s", "%s"),' % (name, message.SerializeToString().hex()))
cross_check()

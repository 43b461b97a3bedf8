// Goal: the method table parses exactly etcd 3.4's gRPC paths (plus 3.5's Auth/AuthStatus), with the
// request and response types and streaming kinds rpc.proto declares.
// Method: spot checks of the methods that matter most, totals per kind, and paths that must not parse.
import EtcdAPI
import Protobuf
import Testing

@Suite("EtcdMethod")
struct EtcdMethodTests {
    @Test(
        "key paths parse to their method, types and kind",
        arguments: [
            ("/etcdserverpb.KV/Range", EtcdMethod.range, EtcdMethod.Kind.unary),
            ("/etcdserverpb.KV/Txn", .txn, .unary),
            ("/etcdserverpb.Watch/Watch", .watch, .bidirectionalStreaming),
            ("/etcdserverpb.Lease/LeaseKeepAlive", .leaseKeepAlive, .bidirectionalStreaming),
            ("/etcdserverpb.Lease/LeaseGrant", .leaseGrant, .unary),
            ("/etcdserverpb.Maintenance/Snapshot", .snapshot, .serverStreaming),
            ("/etcdserverpb.Cluster/MemberList", .memberList, .unary),
            ("/etcdserverpb.Auth/Authenticate", .authenticate, .unary),
            ("/etcdserverpb.Auth/UserAdd", .authUserAdd, .unary),
            ("/etcdserverpb.Auth/AuthStatus", .authStatus, .unary),
        ])
    func parse(path: String, method: EtcdMethod, kind: EtcdMethod.Kind) {
        #expect(EtcdMethod(path: path) == method)
        #expect(method.path == path)
        #expect(method.kind == kind)
    }

    @Test("request and response types follow rpc.proto")
    func types() {
        #expect(ObjectIdentifier(EtcdMethod.range.requestType) == ObjectIdentifier(RangeRequest.self))
        #expect(ObjectIdentifier(EtcdMethod.range.responseType) == ObjectIdentifier(RangeResponse.self))
        #expect(ObjectIdentifier(EtcdMethod.compact.requestType) == ObjectIdentifier(CompactionRequest.self))
        #expect(ObjectIdentifier(EtcdMethod.watch.responseType) == ObjectIdentifier(WatchResponse.self))
        #expect(ObjectIdentifier(EtcdMethod.authRoleRevokePermission.requestType) == ObjectIdentifier(AuthRoleRevokePermissionRequest.self))
        #expect(ObjectIdentifier(EtcdMethod.memberPromote.responseType) == ObjectIdentifier(MemberPromoteResponse.self))
    }

    @Test("there are 40 methods in six services; three stream")
    func totals() {
        #expect(EtcdMethod.allCases.count == 40)
        #expect(Set(EtcdMethod.allCases.map(\.service)) == ["KV", "Watch", "Lease", "Cluster", "Maintenance", "Auth"])
        #expect(EtcdMethod.allCases.filter { $0.kind != .unary } == [.watch, .leaseKeepAlive, .snapshot])
        #expect(EtcdMethod.txn.name == "Txn")
        #expect(EtcdMethod.hashKV.service == "Maintenance")
    }

    @Test(
        "other paths are not methods",
        arguments: [
            "", "/", "/etcdserverpb.KV/range", "/etcdserverpb.KV/Range/", "etcdserverpb.KV/Range",
            "/etcdserverpb.Lease/LeaseCheckpoint", "/v3/kv/range", "/grpc.health.v1.Health/Check",
        ])
    func unknown(path: String) {
        #expect(EtcdMethod(path: path) == nil)
        #expect(EtcdMethod(pathOctets: Array(path.utf8)) == nil)
    }

    @Test("a path given as octets names the same method as the path as a string, for every method")
    func octets() {
        for method in EtcdMethod.allCases {
            #expect(EtcdMethod(pathOctets: Array(method.path.utf8)) == method)
        }
    }

    @Test(
        "non-ASCII paths get the string comparison's answer",
        arguments: ["/etcdserverpb.\u{212A}V/Range", "/etcdserverpb.KV/Rang\u{E9}", "/etcdserverpb.\u{212A}V/Nope"])
    func nonASCII(path: String) {
        #expect(EtcdMethod(pathOctets: Array(path.utf8)) == EtcdMethod(path: path))
    }
}

// Goal: the etcd error statuses match etcd 3.4's rpctypes/error.go exactly (code and message), since
// clientv3 recognizes errors by their text.
// Method: the statuses the server uses most, checked against error.go's values; totals; lookup by text.
import EtcdAPI
import Testing

@Suite("EtcdError")
struct EtcdErrorTests {
    @Test(
        "key statuses carry etcd's code and exact text",
        arguments: [
            (EtcdError.leaseNotFound, 5, "etcdserver: requested lease not found"),
            (.noLeader, 14, "etcdserver: no leader"),
            (.compacted, 11, "etcdserver: mvcc: required revision has been compacted"),
            (.futureRevision, 11, "etcdserver: mvcc: required revision is a future revision"),
            (.emptyKey, 3, "etcdserver: key is not provided"),
            (.duplicateKey, 3, "etcdserver: duplicate key given in txn request"),
            (.requestTooLarge, 3, "etcdserver: request is too large"),
            (.tooManyOps, 3, "etcdserver: too many operations in txn request"),
            (.leaseTTLTooLarge, 11, "etcdserver: too large lease TTL"),
            (.authNotEnabled, 9, "etcdserver: authentication is not enabled"),
            (.authFailed, 3, "etcdserver: authentication failed, invalid user ID or password"),
            (.invalidAuthToken, 16, "etcdserver: invalid auth token"),
            (.permissionDenied, 7, "etcdserver: permission denied"),
            (.userNotFound, 9, "etcdserver: user name not found"),
            (.notLeader, 9, "etcdserver: not leader"),
            (.timeout, 14, "etcdserver: request timed out"),
            (.corrupt, 15, "etcdserver: corrupt cluster"),
            (.watchCanceled, 1, "etcdserver: watch canceled"),
        ] as [(EtcdError, UInt8, String)])
    func statuses(error: EtcdError, code: UInt8, message: String) {
        #expect(error.code.rawValue == code)
        #expect(error.message == message)
        #expect(EtcdError(message: message) == error)
    }

    @Test("all 52 of error.go's statuses are present, with distinct messages")
    func totals() {
        #expect(EtcdError.all.count == 52)
        #expect(Set(EtcdError.all.map(\.message)).count == 52)
        #expect(EtcdError.all.allSatisfy { $0.message.hasPrefix("etcdserver: ") })
    }

    @Test("an unknown message is not an etcd error")
    func unknown() {
        #expect(EtcdError(message: "etcdserver: something else") == nil)
    }
}

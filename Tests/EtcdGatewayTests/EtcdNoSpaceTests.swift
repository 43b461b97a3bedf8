// Goal: a write refused under the NOSPACE alarm reaches etcd clients as etcd's ErrGRPCNoSpace, which clientv3
// does not retry. Method: the status mapping, checked against etcd 3.4's code and message.
@testable import EtcdGateway
import GRPC
import RosterNode
import Testing

@Suite("etcd NOSPACE")
struct EtcdNoSpaceTests {
    @Test("a write refused for lack of space is RESOURCE_EXHAUSTED 'etcdserver: mvcc: database space exceeded'")
    func noSpaceStatus() {
        #expect(EtcdStatus.of(.noSpace(members: ["n1"]))
            == GRPCStatus(code: .resourceExhausted, message: "etcdserver: mvcc: database space exceeded"))
    }
}

import EtcdAPI
import GRPC
import Raft
import Registry
import RosterNode

/// Answers to the messages of a `LeaseKeepAlive` stream.
public enum EtcdKeepAlive {
    /// The `LeaseKeepAliveResponse` for the node's answer to one keepalive, or the status that ends the stream.
    ///
    /// etcd answers a keepalive of an unknown or expired lease with TTL 0 (not an error): clientv3 then closes
    /// its keepalive channel, and frameworks register again.
    /// - Parameters:
    ///   - lease: The lease ID as the client sent it.
    ///   - revision: The registry's current revision, for the header.
    public static func answer(
        lease: Int64, response: NodeResponse, context: EtcdHeaderContext, revision: Revision
    ) -> Result<[UInt8], GRPCStatus> {
        var answer = LeaseKeepAliveResponse()
        answer.header = context.header(revision: revision)
        answer.id = lease
        switch response {
        case .keptAlive(_, let ttl):
            answer.ttl = (ttl + 999) / 1_000
        case .rejected(.leaseNotFound, _), .rejected(.invalidLeaseID, _):
            answer.ttl = 0
        case .failed(let failure):
            return .failure(EtcdStatus.of(failure))
        default:
            return .failure(GRPCStatus(code: .internal, message: "etcdserver: unexpected keepalive answer \(response)"))
        }
        return .success(answer.encoded())
    }
}

import HTTP
import Raft
import Registry
import RosterNode

/// What `GET /v1/cluster/status` reports about the answering node; the server fills it from the node.
public struct ClusterStatusReport: Equatable, Sendable {
    public var name: String
    public var id: NodeID
    /// "leader", "follower", "candidate", "pre_candidate" or "learner".
    public var role: String
    public var term: Term
    /// The leader's member name, if known.
    public var leader: String?
    public var commitIndex: LogIndex
    public var appliedIndex: LogIndex
    public var revision: Revision
    public var compactedRevision: Revision
    /// Milliseconds since this node last heard from a leader (0 on the leader); nil if it never did.
    public var leaderContactAgeMilliseconds: UInt64?

    public init(
        name: String, id: NodeID, role: String, term: Term, leader: String?, commitIndex: LogIndex,
        appliedIndex: LogIndex, revision: Revision, compactedRevision: Revision,
        leaderContactAgeMilliseconds: UInt64?
    ) {
        self.name = name
        self.id = id
        self.role = role
        self.term = term
        self.leader = leader
        self.commitIndex = commitIndex
        self.appliedIndex = appliedIndex
        self.revision = revision
        self.compactedRevision = compactedRevision
        self.leaderContactAgeMilliseconds = leaderContactAgeMilliseconds
    }
}

extension APIResponse {
    /// `GET /v1/cluster/status`, readable from any origin (see the web console's member table).
    public static func encodeStatus(_ status: ClusterStatusReport, context: ResponseContext) -> EncodedResponse {
        var writer = JSONWriter()
        writer.beginObject()
        writer.field("name", status.name)
        writer.field("id", nodeID(status.id))
        writer.field("role", status.role)
        writer.field("term", status.term.rawValue)
        writer.key("leader")
        if let leader = status.leader { writer.string(leader) } else { writer.null() }
        writer.field("commit_index", status.commitIndex.rawValue)
        writer.field("applied_index", status.appliedIndex.rawValue)
        writer.field("revision", status.revision.rawValue)
        writer.field("compacted_revision", status.compactedRevision.rawValue)
        writer.key("leader_contact_ms")
        if let age = status.leaderContactAgeMilliseconds { writer.integer(age) } else { writer.null() }
        writer.endObject()
        var response = ok(writer, context: context, revision: status.revision)
        // The web console served by one member shows every member's status, so it reads this from the
        // other members' client addresses: a cross-origin read of non-secret cluster metadata.
        response.headers.append(("Access-Control-Allow-Origin", "*"))
        return response
    }

    /// `GET /v1/cluster/members`: each member with its role in `configuration` ("voter", "learner", or
    /// "unknown" when the directory knows a member the configuration does not list yet), sorted by name; with
    /// `clusterID`, also the cluster's ID (16 hex digits), which a member started with `--join ADDR` learns here.
    public static func encodeMembers(
        _ members: [Member], configuration: Configuration, leader: NodeID?, clusterID: UInt64? = nil, context: ResponseContext
    ) -> EncodedResponse {
        var writer = JSONWriter()
        writer.beginObject()
        if let clusterID { writer.field("cluster_id", hex(clusterID)) }
        writer.key("members")
        writer.beginArray()
        for member in members.sorted(by: { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }) {
            writer.beginObject()
            writer.field("name", member.name)
            writer.field("id", nodeID(member.id))
            writer.field("peer_address", member.peerAddress)
            writer.key("client_address")
            if let address = member.clientAddress { writer.string(address) } else { writer.null() }
            let role =
                configuration.isVoter(member.id) ? "voter" : configuration.isLearner(member.id) ? "learner" : "unknown"
            writer.field("role", role)
            writer.field("is_leader", member.id == leader)
            writer.endObject()
        }
        writer.endArray()
        writer.endObject()
        return ok(writer, context: context)
    }

    /// A plain-text answer for `/healthz`, `/readyz` (200 or 503) and `/metrics` (Prometheus text format).
    public static func encodeText(
        _ text: String, status: HTTPStatus = .ok, contentType: String = "text/plain; charset=utf-8",
        context: ResponseContext
    )
        -> EncodedResponse
    {
        EncodedResponse(status: status, headers: context.headers(contentType: contentType), body: Array(text.utf8))
    }
}

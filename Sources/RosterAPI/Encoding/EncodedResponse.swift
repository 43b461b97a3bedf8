import HTTP
import Raft
import Registry

/// What the server knows about the cluster when it answers, stamped on every response as headers so a
/// client can follow the leader and order what it reads without parsing bodies.
public struct ResponseContext: Equatable, Sendable {
    /// The node's applied revision (`X-Roster-Revision`); responses that carry their own revision (a
    /// write's, a read's) send that one instead.
    public var revision: Revision
    /// The leader's member name (`X-Roster-Leader`); empty when no leader is known.
    public var leader: String?
    /// The node's current Raft term (`X-Roster-Term`).
    public var term: Term

    public init(revision: Revision, leader: String?, term: Term) {
        self.revision = revision
        self.leader = leader
        self.term = term
    }
}

/// A complete answer: status, header fields, and body, ready to be written with `bytes(keepAlive:)`.
public struct EncodedResponse: Sendable {
    public var status: HTTPStatus
    /// Header fields in order; never `Content-Length` or `Transfer-Encoding`, which the writer adds.
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    public init(status: HTTPStatus, headers: [(name: String, value: String)], body: [UInt8]) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// The first value of a header, compared case-insensitively.
    public func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    /// The full response (status line, headers, `Content-Length`, body) as bytes for the socket.
    /// - Parameter keepAlive: Whether the connection stays open; false adds `Connection: close`.
    public func bytes(keepAlive: Bool) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(body.count + 256)
        HTTPResponseWriter.writeResponse(
            status: status, headers: HTTPHeaders(headers), body: body, keepAlive: keepAlive, into: &output)
        return output
    }
}

extension ResponseContext {
    /// The standard headers, with `revision` in place of the context's when a response carries its own.
    func headers(revision: Revision? = nil, contentType: String = "application/json") -> [(name: String, value: String)]
    {
        [
            ("Content-Type", contentType),
            ("X-Roster-Revision", String((revision ?? self.revision).rawValue)),
            ("X-Roster-Leader", leader ?? ""),
            ("X-Roster-Term", String(term.rawValue)),
        ]
    }
}

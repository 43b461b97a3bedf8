import Raft
import Registry

/// Names and addresses of cluster members, replicated in the registry's own key space under a
/// reserved prefix, so that every node learns the address of a member added at run time.
///
/// Invariant: the record of a member is written (and applied) before the membership change that
/// adds it, so a node always knows how to reach every member of its configuration.
enum MemberDirectory {
    /// A prefix no valid instance key can have: registry names cannot contain a 0x01 byte.
    static let prefix: [UInt8] = [0x01] + Array("roster/members/".utf8)

    static func key(for name: String) -> [UInt8] { prefix + Array(name.utf8) }

    /// The fourth line of the record of a member the leader promotes once it has caught up (`addVoter`).
    static let promoteMark = "promote"

    static func record(_ member: Member, promotesWhenCaughtUp: Bool = false) -> [UInt8] {
        let record = "\(member.name)\n\(member.peerAddress)\n\(member.clientAddress ?? "")"
        return Array((promotesWhenCaughtUp ? record + "\n" + promoteMark : record).utf8)
    }

    /// The write that records `member` (name, peer address, client address if known).
    static func put(_ member: Member, promotesWhenCaughtUp: Bool = false) -> RegistryCommand {
        .put(PutRequest(key: key(for: member.name), value: record(member, promotesWhenCaughtUp: promotesWhenCaughtUp)))
    }

    /// Whether the record asks the leader to promote the member once it has caught up.
    static func promotesWhenCaughtUp(_ record: [UInt8]) -> Bool {
        let fields = String(decoding: record, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        return fields.count == 4 && fields[3] == promoteMark
    }

    /// Whether the replicated record of `name` asks for promotion once caught up.
    static func promotesWhenCaughtUp(_ name: String, registry: RegistryState) -> Bool {
        let stored = try? registry.range(RangeRequest(.key(key(for: name))))
        return stored?.keyValues.first.map { promotesWhenCaughtUp($0.value) } ?? false
    }

    static func member(from record: [UInt8]) -> Member? {
        let fields = String(decoding: record, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        guard fields.count == 3 || (fields.count == 4 && fields[3] == promoteMark), !fields[0].isEmpty, !fields[1].isEmpty
        else { return nil }
        let name = String(fields[0])
        return Member(
            id: Member.id(forName: name), name: name, peerAddress: String(fields[1]),
            clientAddress: fields[2].isEmpty ? nil : String(fields[2]))
    }

    /// The directory: initial members, overridden and extended by replicated records.
    static func members(initial: [Member], registry: RegistryState) -> [Member] {
        var byName: [String: Member] = [:]
        for member in initial { byName[member.name] = member }
        let stored: RangeResult
        do {
            stored = try registry.range(RangeRequest(.prefix(prefix)))
        } catch {
            preconditionFailure("a prefix range without limit cannot be refused: \(error)")
        }
        for pair in stored.keyValues {
            if let member = member(from: pair.value) { byName[member.name] = member }
        }
        return byName.values.sorted { $0.name < $1.name }
    }
}

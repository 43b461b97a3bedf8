import Codec

// MARK: - Membership requests between nodes

extension AdminRequest {
    private static let textLimit = 4_096

    func encode(into writer: inout ByteWriter) {
        switch self {
        case .addLearner(let name, let peerAddress):
            writer.write(UInt8(1))
            writer.writeString(name)
            writer.writeString(peerAddress)
        case .promote(let name):
            writer.write(UInt8(2))
            writer.writeString(name)
        case .remove(let name):
            writer.write(UInt8(3))
            writer.writeString(name)
        case .transferLeadership(let name):
            writer.write(UInt8(4))
            writer.writeString(name ?? "")
        case .updatePeerAddress(let name, let peerAddress):
            writer.write(UInt8(5))
            writer.writeString(name)
            writer.writeString(peerAddress)
        case .addVoter(let name, let peerAddress):
            writer.write(UInt8(6))
            writer.writeString(name)
            writer.writeString(peerAddress)
        }
    }

    init(from reader: inout ByteReader) throws(CodecError) {
        let tag = try reader.readByte("admin.kind")
        switch tag {
        case 1:
            let name = try reader.readString("name", limit: Self.textLimit)
            self = .addLearner(name: name, peerAddress: try reader.readString("peerAddress", limit: Self.textLimit))
        case 2: self = .promote(name: try reader.readString("name", limit: Self.textLimit))
        case 3: self = .remove(name: try reader.readString("name", limit: Self.textLimit))
        case 4:
            let name = try reader.readString("name", limit: Self.textLimit)
            self = .transferLeadership(to: name.isEmpty ? nil : name)
        case 5:
            let name = try reader.readString("name", limit: Self.textLimit)
            self = .updatePeerAddress(name: name, peerAddress: try reader.readString("peerAddress", limit: Self.textLimit))
        case 6:
            let name = try reader.readString("name", limit: Self.textLimit)
            self = .addVoter(name: name, peerAddress: try reader.readString("peerAddress", limit: Self.textLimit))
        default: throw .unknownTag(field: "admin.kind", tag: UInt64(tag))
        }
    }
}

extension AdminRefusal {
    private static let textLimit = 4_096

    func encode(into writer: inout ByteWriter) {
        switch self {
        case .memberNotFound(let name):
            writer.write(UInt8(1))
            writer.writeString(name)
        case .memberExists(let name):
            writer.write(UInt8(2))
            writer.writeString(name)
        case .peerAddressInUse(let address, let member):
            writer.write(UInt8(3))
            writer.writeString(address)
            writer.writeString(member)
        case .tooManyLearners(let limit):
            writer.write(UInt8(4))
            writer.writeVarint(UInt64(max(limit, 0)))
        case .learnerNotReady(let name, let match, let last):
            writer.write(UInt8(5))
            writer.writeString(name)
            writer.writeVarint(match)
            writer.writeVarint(last)
        case .notLearner(let name):
            writer.write(UInt8(6))
            writer.writeString(name)
        case .notEnoughVoters(let reason):
            writer.write(UInt8(7))
            writer.writeString(reason)
        case .changeInProgress:
            writer.write(UInt8(8))
        case .leaderNotReady:
            writer.write(UInt8(9))
        case .other(let text):
            writer.write(UInt8(10))
            writer.writeString(text)
        }
    }

    init(from reader: inout ByteReader) throws(CodecError) {
        let tag = try reader.readByte("refusal.kind")
        switch tag {
        case 1: self = .memberNotFound(name: try reader.readString("name", limit: Self.textLimit))
        case 2: self = .memberExists(name: try reader.readString("name", limit: Self.textLimit))
        case 3:
            let address = try reader.readString("address", limit: Self.textLimit)
            self = .peerAddressInUse(address: address, member: try reader.readString("member", limit: Self.textLimit))
        case 4: self = .tooManyLearners(limit: Int(clamping: try reader.readVarint("limit")))
        case 5:
            let name = try reader.readString("name", limit: Self.textLimit)
            let match = try reader.readVarint("matchIndex")
            self = .learnerNotReady(name: name, matchIndex: match, lastIndex: try reader.readVarint("lastIndex"))
        case 6: self = .notLearner(name: try reader.readString("name", limit: Self.textLimit))
        case 7: self = .notEnoughVoters(reason: try reader.readString("reason", limit: Self.textLimit))
        case 8: self = .changeInProgress
        case 9: self = .leaderNotReady
        case 10: self = .other(try reader.readString("text", limit: Self.textLimit))
        default: throw .unknownTag(field: "refusal.kind", tag: UInt64(tag))
        }
    }
}

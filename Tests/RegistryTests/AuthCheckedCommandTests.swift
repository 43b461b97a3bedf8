// Goal: a client's write carries the auth revision its permission was checked at, and applies only while auth is
// still there — so a permission revoked between a member's check and the entry's turn in the log never lets the
// write through (etcd's ErrAuthOldRevision at apply). Method: commands applied through `RegistryState.apply`, as
// the log applies them, on a state with auth on; the wrapper through the entry codec.
import Codec
import Registry
import Testing

@Suite("Auth-checked commands")
struct AuthCheckedCommandTests {
    /// Auth on, alice may write under app/; returns the state and the next log index.
    static func enabledState() -> (RegistryState, UInt64) {
        var state = AuthStateTests.makeState([AuthPermission(.readWrite, .prefix(bytes("app/")))])
        var index = state.lastAppliedIndex + 1
        let enabled = state.apply(.auth(.enable(tokenSigningKey: Array(repeating: 7, count: 32))), at: index)
        precondition(enabled.rejection == nil, "\(enabled)")
        index += 1
        return (state, index)
    }

    static func put(_ key: String) -> RegistryCommand {
        .put(PutRequest(key: bytes(key), value: bytes("v"), lease: nil, returnPrevious: false))
    }

    static func value(_ key: String, in state: RegistryState) -> [UInt8]? {
        (try? state.range(RangeRequest(.key(bytes(key)))))?.keyValues.first?.value
    }

    @Test("a write checked at the current auth revision applies")
    func currentRevisionApplies() {
        var (state, index) = Self.enabledState()
        let result = state.apply(Self.put("app/a").checked(atAuthRevision: state.auth.revision), at: index)
        #expect(result.rejection == nil, "\(result)")
        #expect(Self.value("app/a", in: state) == bytes("v"))
        #expect(state.lastAppliedIndex == index)
    }

    @Test("a write checked before a permission was revoked is refused at apply and changes nothing")
    func revokedBetweenCheckAndApply() {
        var (state, index) = Self.enabledState()
        let checkedAt = state.auth.revision
        let revoked = state.apply(.auth(.revokePermission(role: "reader", range: .prefix(bytes("app/")))), at: index)
        #expect(revoked.rejection == nil, "\(revoked)")
        index += 1
        let revision = state.revision
        let result = state.apply(Self.put("app/a").checked(atAuthRevision: checkedAt), at: index)
        #expect(result.rejection == .auth(.oldRevision(token: checkedAt, current: state.auth.revision)))
        #expect(Self.value("app/a", in: state) == nil)
        #expect(state.revision == revision)
        #expect(state.lastAppliedIndex == index, "the entry still counts as applied")
    }

    @Test("with auth switched off since the check, the write applies (nothing is enforced any more)")
    func authDisabledSinceCheck() {
        var (state, index) = Self.enabledState()
        let checkedAt = state.auth.revision
        #expect(state.apply(.auth(.disable), at: index).rejection == nil)
        index += 1
        #expect(state.apply(Self.put("other").checked(atAuthRevision: checkedAt), at: index).rejection == nil)
        #expect(Self.value("other", in: state) != nil)
    }

    @Test("every replica decides alike: the wrapper survives the entry codec, and nesting is refused")
    func codec() throws {
        let command = Self.put("app/a").checked(atAuthRevision: 41)
        let decoded = try RegistryCommand.decode(command.encoded(), limits: .standard)
        #expect(decoded == command)
        #expect(decoded.checkedAuthRevision == 41 && decoded.payload == Self.put("app/a"))
        #expect(command.checked(atAuthRevision: 50) == command, "the earlier check is the one kept")
        #expect(Self.put("x").checked(atAuthRevision: nil) == Self.put("x"))

        // Hand-made nesting: version, the wrapper's tag and revision twice, then the put's tag and fields.
        let plain = Self.put("app/a").encoded()
        let wrapped = command.encoded()
        let header = Array(wrapped[1..<(wrapped.count - (plain.count - 1))])
        let nested = [RegistryCommand.formatVersion] + header + header + Array(plain[1...])
        #expect(throws: CodecError.self) { try RegistryCommand.decode(nested, limits: .standard) }
        for cut in 1..<wrapped.count {
            #expect(throws: CodecError.self) { try RegistryCommand.decode(Array(wrapped[..<cut]), limits: .standard) }
        }
    }
}

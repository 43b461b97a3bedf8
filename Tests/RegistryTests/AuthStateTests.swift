// Goal: the replicated auth state follows etcd's auth store rules: permissions on a key, an interval and a
// prefix cover exactly their keys (and unions of them cover ranges that no single one does), the root role
// allows everything, enabling needs root with the root role, every change bumps the auth revision, refusals
// change nothing, and the state survives the command codec and snapshots. Method: commands applied through
// `RegistryState.apply`, as the log applies them, and checks through `AuthState.authorize`.
import Codec
import Registry
import Testing

@Suite("Auth state")
struct AuthStateTests {
    static let credential = PasswordCredential(iterations: 1, salt: [1, 2], hash: [3, 4, 5])

    /// A registry with users alice (role reader) and root (role root), and role reader's permissions.
    static func makeState(_ permissions: [AuthPermission]) -> RegistryState {
        var state = RegistryState()
        var index: UInt64 = 0
        var commands: [AuthCommand] = [
            .addUser(name: "root", credential: credential), .grantRole(user: "root", role: "root"),
            .addUser(name: "alice", credential: credential), .addRole(name: "reader"),
            .grantRole(user: "alice", role: "reader"),
        ]
        commands += permissions.map { .grantPermission(role: "reader", permission: $0) }
        for command in commands {
            index += 1
            let result = state.apply(.auth(command), at: index)
            precondition(result.rejection == nil, "\(command): \(result)")
        }
        return state
    }

    static func allows(_ permissions: [AuthPermission], _ access: AuthPermission.Access, _ range: KeyRange) -> Bool {
        makeState(permissions).auth.authorize(user: "alice", .keys([KeyAccess(access, range)])) == nil
    }

    @Test("a key permission covers that key only")
    func keyPermission() {
        let grant = [AuthPermission(.read, .key(bytes("a")))]
        #expect(Self.allows(grant, .read, .key(bytes("a"))))
        #expect(!Self.allows(grant, .read, .key(bytes("a0"))))
        #expect(!Self.allows(grant, .read, .prefix(bytes("a"))))
        #expect(!Self.allows(grant, .write, .key(bytes("a"))))
    }

    @Test("a prefix permission covers the prefix and every range inside it")
    func prefixPermission() {
        let grant = [AuthPermission(.readWrite, .prefix(bytes("svc/")))]
        #expect(Self.allows(grant, .read, .key(bytes("svc/x"))))
        #expect(Self.allows(grant, .write, .prefix(bytes("svc/a"))))
        #expect(Self.allows(grant, .read, .interval(start: bytes("svc/a"), end: bytes("svc/b"))))
        #expect(!Self.allows(grant, .read, .prefix(bytes("svc"))))
        #expect(!Self.allows(grant, .read, .key(bytes("svd"))))
        #expect(!Self.allows(grant, .read, .fromKey(bytes("svc/"))))
    }

    @Test("an interval permission is half-open")
    func intervalPermission() {
        let grant = [AuthPermission(.write, .interval(start: bytes("b"), end: bytes("d")))]
        #expect(Self.allows(grant, .write, .key(bytes("b"))))
        #expect(Self.allows(grant, .write, .key(bytes("czzz"))))
        #expect(!Self.allows(grant, .write, .key(bytes("d"))))
        #expect(!Self.allows(grant, .write, .key(bytes("a"))))
        #expect(!Self.allows(grant, .read, .key(bytes("c"))))
    }

    @Test("adjacent permissions together cover a range neither covers alone")
    func unionCoverage() {
        let grant = [
            AuthPermission(.read, .interval(start: bytes("a"), end: bytes("c"))),
            AuthPermission(.read, .interval(start: bytes("c"), end: bytes("e"))),
        ]
        #expect(Self.allows(grant, .read, .interval(start: bytes("b"), end: bytes("d"))))
        #expect(!Self.allows(grant, .read, .interval(start: bytes("b"), end: bytes("f"))))
    }

    @Test("a from-key permission covers every later key; the empty prefix covers all")
    func unboundedPermissions() {
        #expect(Self.allows([AuthPermission(.read, .fromKey(bytes("m")))], .read, .fromKey(bytes("n"))))
        #expect(!Self.allows([AuthPermission(.read, .fromKey(bytes("m")))], .read, .key(bytes("l"))))
        #expect(Self.allows([AuthPermission(.read, .prefix([]))], .read, .fromKey([0])))
    }

    @Test("root may do everything; others may not do root-only things")
    func rootRules() {
        let state = Self.makeState([AuthPermission(.readWrite, .prefix([]))])
        #expect(state.auth.authorize(user: "root", .root) == nil)
        #expect(state.auth.authorize(user: "root", .keys([KeyAccess(.write, .key(bytes("x")))])) == nil)
        #expect(state.auth.authorize(user: "alice", .root) == .permissionDenied)
        #expect(state.auth.authorize(user: "alice", .authenticated) == nil)
        #expect(state.auth.authorize(user: "mallory", .authenticated) == .permissionDenied)
    }

    @Test("enabling needs a root user holding the root role")
    func enableNeedsRoot() {
        var state = RegistryState()
        #expect(state.apply(.auth(.enable(tokenSigningKey: [1])), at: 1).rejection == .auth(.rootUserDoesNotExist))
        _ = state.apply(.auth(.addUser(name: "root", credential: Self.credential)), at: 2)
        #expect(state.apply(.auth(.enable(tokenSigningKey: [1])), at: 3).rejection == .auth(.rootUserLacksRootRole))
        _ = state.apply(.auth(.grantRole(user: "root", role: "root")), at: 4)
        #expect(state.apply(.auth(.enable(tokenSigningKey: [1])), at: 5).rejection == nil)
        #expect(state.auth.isEnabled)
        #expect(state.auth.tokenSigningKey == [1])
    }

    @Test("with auth on, root and its root role cannot be removed")
    func lockoutRefused() {
        var state = Self.makeState([])
        _ = state.apply(.auth(.enable(tokenSigningKey: [9])), at: 100)
        #expect(state.apply(.auth(.deleteUser(name: "root")), at: 101).rejection == .auth(.invalidAuthManagement))
        #expect(state.apply(.auth(.revokeRole(user: "root", role: "root")), at: 102).rejection == .auth(.invalidAuthManagement))
        _ = state.apply(.auth(.disable), at: 103)
        #expect(state.apply(.auth(.deleteUser(name: "root")), at: 104).rejection == nil)
    }

    @Test("every applied change bumps the auth revision; refusals and key writes do not")
    func revisionBumps() {
        var state = Self.makeState([])
        let before = state.auth.revision
        #expect(before == 5)
        _ = state.apply(.auth(.addRole(name: "reader")), at: 10)
        #expect(state.auth.revision == before)
        _ = state.apply(.put(PutRequest(key: bytes("k"), value: [])), at: 11)
        #expect(state.auth.revision == before)
        _ = state.apply(.auth(.revokeRole(user: "alice", role: "reader")), at: 12)
        #expect(state.auth.revision == before + 1)
        #expect(state.revision == 1)
    }

    @Test("refusals name what is missing", arguments: [
        (AuthCommand.addUser(name: "alice", credential: nil), AuthRejection.userAlreadyExists("alice")),
        (.addUser(name: "", credential: nil), .userEmpty),
        (.addRole(name: ""), .roleEmpty),
        (.deleteUser(name: "bob"), .userNotFound("bob")),
        (.grantRole(user: "alice", role: "writer"), .roleNotFound("writer")),
        (.revokeRole(user: "alice", role: "root"), .roleNotGranted(user: "alice", role: "root")),
        (.revokePermission(role: "reader", range: .key(bytes("z"))), .permissionNotGranted(role: "reader")),
        (.grantPermission(role: "nobody", permission: AuthPermission(.read, .key(bytes("z")))), .roleNotFound("nobody")),
    ])
    func refusals(command: AuthCommand, expected: AuthRejection) {
        var state = Self.makeState([])
        let before = state.auth
        #expect(state.apply(.auth(command), at: 100).rejection == .auth(expected))
        #expect(state.auth == before)
    }

    @Test("deleting a role takes it from its users; granting again replaces the access")
    func roleLifecycle() {
        var state = Self.makeState([AuthPermission(.read, .prefix(bytes("a")))])
        _ = state.apply(.auth(.grantPermission(role: "reader", permission: AuthPermission(.write, .prefix(bytes("a"))))), at: 50)
        #expect(state.auth.role("reader")?.permissions == [AuthPermission(.write, .prefix(bytes("a")))])
        _ = state.apply(.auth(.deleteRole(name: "reader")), at: 51)
        #expect(state.auth.user("alice")?.roles == [])
    }

    @Test("auth commands round-trip through the command codec", arguments: [
        AuthCommand.enable(tokenSigningKey: [1, 2, 3]), .disable, .addUser(name: "u", credential: credential),
        .addUser(name: "cn-user", credential: nil), .deleteUser(name: "u"), .changePassword(name: "u", credential: credential),
        .grantRole(user: "u", role: "r"), .revokeRole(user: "u", role: "r"), .addRole(name: "r"), .deleteRole(name: "r"),
        .grantPermission(role: "r", permission: AuthPermission(.readWrite, .interval(start: bytes("a"), end: bytes("b")))),
        .revokePermission(role: "r", range: .prefix(bytes("p"))),
    ])
    func codecRoundTrip(command: AuthCommand) throws {
        let encoded = RegistryCommand.auth(command).encoded()
        #expect(try RegistryCommand.decode(encoded, limits: .standard) == .auth(command))
        for length in 0..<encoded.count {
            #expect(throws: CodecError.self) { try RegistryCommand.decode(Array(encoded[0..<length]), limits: .standard) }
        }
    }

    @Test("a snapshot keeps users, roles, the switch and the revision")
    func snapshotRoundTrip() throws {
        var state = Self.makeState([AuthPermission(.read, .prefix(bytes("svc/")))])
        _ = state.apply(.auth(.enable(tokenSigningKey: [7, 7])), at: 100)
        let restored = try RegistryState.restore(from: state.snapshotBytes(), limits: .standard)
        #expect(restored == state)
        #expect(restored.auth.isEnabled)
        #expect(restored.auth.authorize(user: "alice", .keys([KeyAccess(.read, .key(bytes("svc/1")))])) == nil)
    }

    @Test("a state that never used auth writes the version 1 snapshot")
    func pristineSnapshotIsVersionOne() throws {
        var state = RegistryState()
        _ = state.apply(.put(PutRequest(key: bytes("k"), value: [1])), at: 1)
        let bytes = state.snapshotBytes()
        #expect(bytes[4] == 1)
        #expect(try RegistryState.restore(from: bytes, limits: .standard) == state)
    }
}

@Suite("Auth redaction")
struct AuthRedactionTests {
    @Test("printing a command, a credential or the state never shows a secret")
    func redacted() {
        let credential = PasswordCredential(iterations: 7, salt: [0xAB, 0xCD], hash: [0xEF, 0x99])
        var state = RegistryState()
        _ = state.apply(.auth(.addUser(name: "root", credential: credential)), at: 1)
        _ = state.apply(.auth(.grantRole(user: "root", role: "root")), at: 2)
        _ = state.apply(.auth(.enable(tokenSigningKey: [0x77, 0x66])), at: 3)
        let printed = [
            "\(RegistryCommand.auth(.enable(tokenSigningKey: [0x77, 0x66])))", "\(credential)",
            String(reflecting: RegistryCommand.auth(.addUser(name: "u", credential: credential))), "\(state.auth)",
        ]
        for text in printed {
            for secret in ["171", "205", "239", "153", "119", "102", "[171", "0xab", "ab, cd"] {
                #expect(!text.contains(secret), "\(text)")
            }
        }
    }
}

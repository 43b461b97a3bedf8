// Goal: etcd's Auth calls decode to the auth requests Roster serves, permission ranges translate both ways as
// etcdctl writes and reads them, and a watch session creates watches only on keys its user may read and cancels
// them when the permission goes. Method: encoded requests through `EtcdAuth.plan`, answers decoded back, and a
// watch session over a registry whose auth state the test changes.
import EtcdAPI
import GRPC
import Protobuf
import Registry
import RosterNode
import Testing

@testable import EtcdGateway

@Suite("etcd Auth service")
struct EtcdAuthTests {
    @Test("Auth calls plan the matching auth request")
    func plans() {
        var grant = AuthRoleGrantPermissionRequest()
        grant.name = "r"
        var perm = EtcdAPI.Permission()
        perm.permType = .readWrite
        perm.key = bytes("svc/")
        perm.rangeEnd = bytes("svc0")
        grant.perm = perm
        #expect(
            EtcdAuth.plan(.authRoleGrantPermission, payload: grant.encoded())
                == .serve(.change(.grantPermission(role: "r", permission: AuthPermission(.readWrite, .prefix(bytes("svc/")))))))
        var add = AuthUserAddRequest()
        add.name = "u"
        add.password = "p"
        #expect(EtcdAuth.plan(.authUserAdd, payload: add.encoded()) == .serve(.setPassword(user: "u", password: "p", isNewUser: true)))
        add.options = UserAddOptions(noPassword: true)
        #expect(EtcdAuth.plan(.authUserAdd, payload: add.encoded()) == .serve(.change(.addUser(name: "u", credential: nil))))
        #expect(EtcdAuth.plan(.authEnable, payload: []) == .serve(.enable))
        #expect(EtcdAuth.plan(.range, payload: []) == nil)
        #expect(EtcdAuth.plan(.authUserAdd, payload: AuthUserAddRequest().encoded()) == .fail(EtcdStatus.error(.userEmpty)))
    }

    @Test("RoleGet lists permissions with etcd's key and range_end")
    func roleGet() throws {
        var auth = AuthState()
        _ = auth.apply(.addRole(name: "r"))
        _ = auth.apply(.grantPermission(role: "r", permission: AuthPermission(.read, .prefix(bytes("p/")))))
        _ = auth.apply(.grantPermission(role: "r", permission: AuthPermission(.write, .fromKey(bytes("z")))))
        let answer = try EtcdAuth.answer(.role("r"), auth: auth, header: ResponseHeader()).get()
        let decoded = try AuthRoleGetResponse(decoding: answer)
        #expect(decoded.perm.map { text($0.key) } == ["p/", "z"])
        #expect(decoded.perm.map { text($0.rangeEnd) } == ["p0", "\0"])
        #expect(decoded.perm.map(\.permType) == [.read, .write])
    }

    @Test("a watch is created only on readable keys and cancelled when the permission goes")
    func watchPermission() {
        var node = Node()
        let credential = PasswordCredential(iterations: 1, salt: [1], hash: [2])
        for command: AuthCommand in [
            .addUser(name: "root", credential: credential), .grantRole(user: "root", role: "root"),
            .addUser(name: "u", credential: credential), .addRole(name: "r"), .grantRole(user: "u", role: "r"),
            .grantPermission(role: "r", permission: AuthPermission(.read, .prefix(bytes("ok/")))), .enable(tokenSigningKey: [1]),
        ] {
            node.apply(.auth(command))
        }
        var session = EtcdWatchSession(context: testContext)
        session.user = "u"
        func create(_ key: String, end: String) -> WatchRequest {
            var create = WatchCreateRequest()
            create.key = bytes(key)
            create.rangeEnd = bytes(end)
            return WatchRequest(requestUnion: .createRequest(create))
        }
        let denied = session.receive(create("secret", end: ""), registry: node.registry)
        #expect(denied.first?.canceled == true && denied.first?.cancelReason.contains("permission denied") == true)
        let allowed = session.receive(create("ok/", end: "ok0"), registry: node.registry)
        #expect(allowed.first?.created == true && allowed.first?.canceled == false)
        #expect(session.count == 1)
        node.apply(.auth(.revokePermission(role: "r", range: .prefix(bytes("ok/")))))
        let cancelled = session.cancelUnpermitted(registry: node.registry)
        #expect(cancelled.count == 1 && cancelled.first?.canceled == true)
        #expect(session.count == 0)
    }
}

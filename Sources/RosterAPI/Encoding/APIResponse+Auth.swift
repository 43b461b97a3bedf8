import Registry
import RosterNode

/// Answers of `/v1/auth/…`. Credentials never appear: a user shows whether it has a password, not the hash.
extension APIResponse {
    /// `POST /v1/auth/authenticate`: `{"token":"…","expires_in_s":300}`.
    public static func encodeToken(_ token: String, lifetimeSeconds: Int, context: ResponseContext) -> EncodedResponse {
        var writer = JSONWriter()
        writer.beginObject()
        writer.field("token", token)
        writer.field("expires_in_s", lifetimeSeconds)
        writer.endObject()
        return ok(writer, context: context)
    }

    /// A local auth read, or the refusal (an unknown user or role).
    public static func encodeAuthRead(_ read: AuthRead, auth: AuthState, context: ResponseContext) -> EncodedResponse {
        var writer = JSONWriter()
        writer.beginObject()
        switch read {
        case .status:
            writer.field("enabled", auth.isEnabled)
            writer.field("auth_revision", auth.revision)
        case .users:
            writer.key("users")
            writer.beginArray()
            for user in auth.allUsers { writeUser(user, into: &writer) }
            writer.endArray()
        case .user(let name):
            guard let user = auth.user(name) else { return encodeError(APIError(auth: .userNotFound(name)), context: context) }
            writer.key("user")
            writeUser(user, into: &writer)
        case .roles:
            writer.key("roles")
            writer.beginArray()
            for role in auth.allRoles { writeRole(role, into: &writer) }
            writer.endArray()
        case .role(let name):
            guard let role = auth.role(name) ?? (name == AuthState.rootName ? AuthRole(name: name) : nil) else {
                return encodeError(APIError(auth: .roleNotFound(name)), context: context)
            }
            writer.key("role")
            writeRole(role, into: &writer)
        }
        writer.endObject()
        return ok(writer, context: context)
    }

    private static func writeUser(_ user: AuthUser, into writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("name", user.name)
        writer.field("has_password", user.credential != nil)
        writer.key("roles")
        writer.beginArray()
        for role in user.roles { writer.string(role) }
        writer.endArray()
        writer.endObject()
    }

    private static func writeRole(_ role: AuthRole, into writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("name", role.name)
        writer.key("permissions")
        writer.beginArray()
        for permission in role.permissions {
            writer.beginObject()
            let access = switch permission.access {
            case .read: "read"
            case .write: "write"
            case .readWrite: "readwrite"
            }
            writer.field("access", access)
            switch permission.range {
            case .key(let key): writer.field("key", printableKey(key))
            case .prefix(let prefix):
                writer.field("key", printableKey(prefix))
                writer.field("prefix", true)
            case .interval(let start, let end):
                writer.field("key", printableKey(start))
                writer.field("range_end", printableKey(end))
            case .fromKey(let key):
                writer.field("key", printableKey(key))
                writer.field("from_key", true)
            }
            writer.endObject()
        }
        writer.endArray()
        writer.endObject()
    }

    private static func printableKey(_ key: [UInt8]) -> String { String(decoding: key, as: UTF8.self) }
}

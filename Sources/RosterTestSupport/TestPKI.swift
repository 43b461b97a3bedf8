import COpenSSL
import Foundation

/// Test support: throwaway keys and certificates made in-process with OpenSSL's API, so the TLS tests need no `openssl`
/// binary and leave no key behind (files go to a temporary directory, mode 0600, removed by `deinit`).
public final class TestPKI {
    /// A key pair and its certificate.
    public final class Identity {
        public let key: OpaquePointer
        public let certificate: OpaquePointer

        init(key: OpaquePointer, certificate: OpaquePointer) {
            self.key = key
            self.certificate = certificate
        }

        deinit {
            X509_free(certificate)
            EVP_PKEY_free(key)
        }
    }

    public let directory: URL

    public init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("roster-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
    }

    deinit { try? FileManager.default.removeItem(at: directory) }

    public func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    /// A P-256 key.
    public static func makeKey() -> OpaquePointer {
        let context = EVP_PKEY_CTX_new_from_name(nil, "EC", nil)
        defer { EVP_PKEY_CTX_free(context) }
        var key: OpaquePointer?
        guard EVP_PKEY_keygen_init(context) == 1, EVP_PKEY_CTX_set_group_name(context, "P-256") == 1,
              EVP_PKEY_generate(context, &key) == 1, let key
        else { fatalError("cannot generate a test key") }
        return key
    }

    /// A self-signed CA.
    public func makeAuthority(_ commonName: String) -> Identity {
        let key = Self.makeKey()
        let certificate = Self.makeCertificate(commonName: commonName, key: key, issuer: nil, isAuthority: true,
                                               subjectAltName: nil, validFrom: -3600, validUntil: 86400)
        return Identity(key: key, certificate: certificate)
    }

    /// A leaf certificate for 127.0.0.1 and localhost, for servers and clients alike, signed by `issuer`.
    public func makeLeaf(_ commonName: String, issuer: Identity, validFrom: Int = -3600, validUntil: Int = 86400) -> Identity {
        let key = Self.makeKey()
        let certificate = Self.makeCertificate(
            commonName: commonName, key: key, issuer: issuer, isAuthority: false,
            subjectAltName: "IP:127.0.0.1,DNS:localhost", validFrom: validFrom, validUntil: validUntil)
        return Identity(key: key, certificate: certificate)
    }

    private static func makeCertificate(commonName: String, key: OpaquePointer, issuer: Identity?, isAuthority: Bool,
                                        subjectAltName: String?, validFrom: Int, validUntil: Int) -> OpaquePointer {
        guard let certificate = X509_new() else { fatalError("X509_new") }
        X509_set_version(certificate, 2)
        ASN1_INTEGER_set(X509_get_serialNumber(certificate), Int.random(in: 1...Int(Int32.max)))
        X509_gmtime_adj(X509_getm_notBefore(certificate), validFrom)
        X509_gmtime_adj(X509_getm_notAfter(certificate), validUntil)
        X509_set_pubkey(certificate, key)
        let name = X509_get_subject_name(certificate)
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, commonName, -1, -1, 0)
        X509_set_issuer_name(certificate, issuer.map { X509_get_subject_name($0.certificate) } ?? name)
        var context = X509V3_CTX()
        X509V3_set_ctx(&context, issuer?.certificate ?? certificate, certificate, nil, nil, 0)
        var extensions: [(Int32, String)] = [
            (NID_basic_constraints, isAuthority ? "critical,CA:TRUE" : "critical,CA:FALSE"),
            (NID_key_usage, isAuthority ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature"),
        ]
        if !isAuthority { extensions.append((NID_ext_key_usage, "serverAuth,clientAuth")) }
        if let subjectAltName { extensions.append((NID_subject_alt_name, subjectAltName)) }
        for (nid, value) in extensions {
            guard let ext = X509V3_EXT_conf_nid(nil, &context, nid, value) else { fatalError("extension \(value)") }
            X509_add_ext(certificate, ext, -1)
            X509_EXTENSION_free(ext)
        }
        guard X509_sign(certificate, issuer?.key ?? key, EVP_sha256()) > 0 else { fatalError("X509_sign") }
        return certificate
    }

    // MARK: - Files

    /// Writes `identity`'s certificate (followed by `chain`) and key as PEM; returns (certificate, key) paths.
    @discardableResult
    public func write(_ identity: Identity, as name: String, chain: [Identity] = []) -> (certificate: String, key: String) {
        let certificatePath = path("\(name).pem")
        let keyPath = path("\(name).key")
        writePEM(to: certificatePath) { bio in
            PEM_write_bio_X509(bio, identity.certificate)
            for link in chain { PEM_write_bio_X509(bio, link.certificate) }
        }
        writePEM(to: keyPath) { bio in PEM_write_bio_PrivateKey(bio, identity.key, nil, nil, 0, nil, nil) }
        return (certificatePath, keyPath)
    }

    /// Writes a CA bundle of `authorities`' certificates.
    public func writeBundle(_ authorities: [Identity], as name: String) -> String {
        let bundle = path("\(name).pem")
        writePEM(to: bundle) { bio in for authority in authorities { PEM_write_bio_X509(bio, authority.certificate) } }
        return bundle
    }

    private func writePEM(to path: String, _ body: (OpaquePointer) -> Void) {
        // Write to a temporary name and rename, as a rotation tool would, so a reader never sees half a file.
        let temporary = path + ".tmp"
        guard let bio = BIO_new_file(temporary, "w") else { fatalError("cannot write \(temporary)") }
        body(bio)
        BIO_free(bio)
        chmod(temporary, 0o600)
        rename(temporary, path)
    }
}

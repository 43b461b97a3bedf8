import TLS

/// TLS for the blocking client: the same `TLSEngine` the server uses, driven over the connection's socket in
/// `poll` slices, so deadlines and cancellation work exactly as for plain HTTP.
extension Connection {
    /// Runs the handshake; the node's certificate must verify against `tls` and name `host`.
    /// - Throws: `.connectFailed` (nothing was sent, so retrying elsewhere is safe) with OpenSSL's reason.
    func secure(_ tls: ClientTLS, host: String, deadline: ContinuousClock.Instant) throws(TransportFailure) {
        let engine: TLSEngine
        do {
            engine = try tls.context().makeEngine(expectedHost: host)
            try engine.start()
        } catch {
            throw .connectFailed("TLS set-up failed: \(error)")
        }
        self.engine = engine
        var plaintext: [UInt8] = []
        while !engine.isEstablished {
            try sendRaw(engine.takeWireBytes(), deadline: deadline)
            guard let wire = try receiveRaw(deadline: deadline) else {
                throw .connectFailed("the node closed the connection during the TLS handshake (is its client port TLS?)")
            }
            do {
                _ = try engine.receive(wire, into: &plaintext)
            } catch {
                try? sendRaw(engine.takeWireBytes(), deadline: deadline)  // our alert, so the node logs why
                throw .connectFailed("\(error)")
            }
        }
        try sendRaw(engine.takeWireBytes(), deadline: deadline)
        // The handshake's sending does not count as sending the request: nothing has reached the API yet.
        resetSentAnything()
        pendingPlaintext = plaintext
    }

    /// Sends `bytes`, encrypted when the connection is TLS.
    func send(_ bytes: [UInt8], deadline: ContinuousClock.Instant) throws(TransportFailure) {
        guard let engine else { return try sendRaw(bytes, deadline: deadline) }
        do {
            try engine.send(bytes)
        } catch {
            throw .connectionLost("\(error)")
        }
        try sendRaw(engine.takeWireBytes(), deadline: deadline)
    }

    /// Reads what is available (at least one byte), or nil at end of stream; decrypted when TLS.
    func receive(deadline: ContinuousClock.Instant) throws(TransportFailure) -> [UInt8]? {
        guard let engine else { return try receiveRaw(deadline: deadline) }
        if !pendingPlaintext.isEmpty {
            defer { pendingPlaintext = [] }
            return pendingPlaintext
        }
        while true {
            guard let wire = try receiveRaw(deadline: deadline) else { return nil }
            var plaintext: [UInt8] = []
            let outcome: TLSEngine.ReceiveOutcome
            do {
                outcome = try engine.receive(wire, into: &plaintext)
            } catch {
                throw .connectionLost("\(error)")
            }
            let reply = engine.takeWireBytes()
            if !reply.isEmpty { try sendRaw(reply, deadline: deadline) }
            if !plaintext.isEmpty { return plaintext }
            if outcome == .closedByPeer { return nil }
        }
    }
}

extension TLSEngine {
    /// `receive` for an array of wire bytes.
    func receive(_ wire: [UInt8], into plaintext: inout [UInt8]) throws(TLSError) -> ReceiveOutcome {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: wire.count, alignment: 1)
        defer { buffer.deallocate() }
        buffer.copyBytes(from: wire)
        return try receive(UnsafeRawBufferPointer(buffer), into: &plaintext)
    }
}

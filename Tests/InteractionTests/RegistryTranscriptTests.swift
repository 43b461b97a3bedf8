// Goal: the lease and watch semantics as golden traces (TTL lower bound, keepalive, checkpoints of a
// silent lease, leader change with remaining + grace, rate-limited mass expiry, watch replay and
// resync), so that a change of `LeaseKeeper` or `RegistryState` behaviour shows as a readable diff.
// Method: each file of `testdata/registry` is one test case, run block by block by `RegistryInteraction`
// against a fresh state and leader keeper with a script-driven clock; `ROSTER_REWRITE=1 swift test
// --filter RegistryTranscriptTests` rewrites the files.
import Testing

@Suite("Registry transcripts")
struct RegistryTranscriptTests {
    @Test("testdata/registry", arguments: Transcripts.files(in: "registry"))
    func transcript(_ name: String) throws {
        try Transcripts.run(name, in: "registry", interpreter: RegistryInteraction())
    }

    @Test("the registry transcripts exist")
    func present() {
        #expect(Transcripts.files(in: "registry").count >= 6)
    }
}

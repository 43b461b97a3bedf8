// Goal: the Raft paper's and thesis' scenarios as golden traces (elections, Figure 8, CheckQuorum,
// Pre-Vote, ReadIndex, leadership transfer, snapshot catch-up, membership, conflicting tails), so that any
// change of the core's behaviour shows as a diff of a readable transcript. Method: each file of
// `testdata/raft` is one test case, run block by block by `RaftInteraction` against a fresh cluster of
// real `RaftNode`s; `ROSTER_REWRITE=1 swift test --filter RaftTranscriptTests` rewrites the files.
import Testing

@Suite("Raft transcripts")
struct RaftTranscriptTests {
    @Test("testdata/raft", arguments: Transcripts.files(in: "raft"))
    func transcript(_ name: String) throws {
        try Transcripts.run(name, in: "raft", interpreter: RaftInteraction())
    }

    @Test("the raft transcripts exist")
    func present() {
        #expect(Transcripts.files(in: "raft").count >= 10)
    }
}

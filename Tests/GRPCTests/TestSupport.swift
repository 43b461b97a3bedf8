// Goal: shared fixtures for the GRPC tests.
// Method: a seeded generator so fuzz runs replay from their seed; no test lives here.
import Raft  // SplitMix64: the project's one seeded generator

extension SplitMix64 {
    /// `count` random bytes.
    mutating func bytes(_ count: Int) -> [UInt8] {
        (0..<count).map { _ in UInt8(truncatingIfNeeded: next()) }
    }
}

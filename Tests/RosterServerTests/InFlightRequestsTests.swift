// Goal: `InFlightRequests` behaves as the `Set<RequestID>` it replaced. Method: seeded random inserts and removes
// applied to both, comparing every answer and the final contents.
import RosterNode
import Testing

@testable import RosterServer

@Suite("InFlightRequests")
struct InFlightRequestsTests {
    @Test("agrees with a Set on every insert, remove and emptiness check", arguments: 0..<20)
    func agreesWithSet(seed: UInt64) {
        var state = seed &+ 0x9E37_79B9_7F4A_7C15
        func next(_ bound: UInt64) -> UInt64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return (state >> 33) % bound
        }
        var requests = InFlightRequests()
        var model = Set<RequestID>()
        for _ in 0..<500 {
            let id = RequestID(next(8))
            if next(2) == 0 {
                requests.insert(id)
                model.insert(id)
            } else {
                #expect(requests.remove(id) == model.remove(id))
            }
            #expect(requests.isEmpty == model.isEmpty)
        }
        #expect(Set(requests.all) == model)
        #expect(requests.all.count == model.count)
    }
}

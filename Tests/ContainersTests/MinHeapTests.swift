// Goal: the one heap pops in sorted order whatever was pushed, and a purge keeps that order. Method: seeded random
// pushes and pops checked against a sorted array (a "dumb" model, as etcd's quorum quick tests do).
import Containers
import Raft
import Testing

@Suite("MinHeap")
struct MinHeapTests {
    @Test("pops come out in sorted order, interleaved with pushes", arguments: [UInt64(1), 7, 2379, 0xC0FFEE])
    func matchesSortedModel(seed: UInt64) {
        var random = SplitMix64(seed: seed)
        var heap = MinHeap<Int>()
        var model: [Int] = []
        for _ in 0..<2_000 {
            if Bool.random(using: &random) || model.isEmpty {
                let value = Int.random(in: -500...500, using: &random)
                heap.push(value)
                model.append(value)
                model.sort()
            } else {
                #expect(heap.popMinimum() == model.removeFirst())
            }
            #expect(heap.minimum == model.first)
            #expect(heap.count == model.count)
        }
    }

    @Test("removing elements keeps the rest in heap order")
    func removeAllKeepsOrder() {
        var heap = MinHeap<Int>()
        for value in (0..<100).reversed() { heap.push(value) }
        heap.removeAll { $0 % 3 == 0 }
        var popped: [Int] = []
        while let value = heap.popMinimum() { popped.append(value) }
        #expect(popped == (0..<100).filter { $0 % 3 != 0 })
        #expect(heap.isEmpty)
    }
}

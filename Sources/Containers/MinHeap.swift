/// A binary min-heap: the project's one priority queue, used by the event loop's timers (`Posix.TimerQueue`) and
/// by the lease keeper's deadlines (`Registry.LeaseKeeper`).
///
/// It lives in a module of its own, which depends on nothing and does no I/O, because the pure modules may not
/// import `Posix` and `Posix` should not import a pure module's domain types. Ties are broken by the element's
/// own `<`, so callers that need a stable order (timers due at the same instant fire first-scheduled first) put
/// a sequence number in the element.
///
/// Every member is `@inlinable` so each client module specializes the heap for its element type: unspecialized,
/// each comparison and swap went through witness tables and generic metadata lookups, about 1,500 instructions
/// a push or pop, and the event loop pushes and pops several timers per request (7,500 of an etcd read's
/// 100,000 instructions, 2026-12-04).
public struct MinHeap<Element: Comparable>: Sendable where Element: Sendable {
    @usableFromInline var elements: [Element] = []

    /// An empty heap.
    @inlinable public init() {}

    /// The smallest element, without removing it.
    @inlinable public var minimum: Element? { elements.first }

    /// The number of elements.
    @inlinable public var count: Int { elements.count }

    /// Whether the heap holds nothing.
    @inlinable public var isEmpty: Bool { elements.isEmpty }

    /// Adds `element`.
    /// - Complexity: O(log n).
    @inlinable public mutating func push(_ element: Element) {
        elements.append(element)
        var child = elements.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard elements[child] < elements[parent] else { break }
            elements.swapAt(child, parent)
            child = parent
        }
    }

    /// Removes and returns the smallest element, or nil when empty.
    /// - Complexity: O(log n).
    @inlinable @discardableResult
    public mutating func popMinimum() -> Element? {
        guard !elements.isEmpty else { return nil }
        elements.swapAt(0, elements.count - 1)
        let smallest = elements.removeLast()
        siftDown(from: 0)
        return smallest
    }

    /// Removes every element for which `shouldRemove` holds (lazy deletions purged in one pass).
    /// - Complexity: O(n).
    @inlinable public mutating func removeAll(where shouldRemove: (Element) -> Bool) {
        elements.removeAll(where: shouldRemove)
        for index in stride(from: elements.count / 2 - 1, through: 0, by: -1) {
            siftDown(from: index)
        }
    }

    @inlinable mutating func siftDown(from start: Int) {
        var parent = start
        while true {
            let left = 2 * parent + 1
            let right = left + 1
            var smallest = parent
            if left < elements.count && elements[left] < elements[smallest] { smallest = left }
            if right < elements.count && elements[right] < elements[smallest] { smallest = right }
            if smallest == parent { return }
            elements.swapAt(parent, smallest)
            parent = smallest
        }
    }
}

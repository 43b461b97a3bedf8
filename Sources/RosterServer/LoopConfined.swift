/// A value owned by one loop thread, carried through another thread's queue (an I/O loop's inbox, the password
/// worker) without being touched there.
final class LoopConfined<Value>: @unchecked Sendable {
    // Safety: `value` is set at creation on the owning loop thread and read only by jobs that run back on that
    // same thread (through its `EventLoopHandle`); the other thread only moves the box.
    let value: Value

    init(_ value: Value) { self.value = value }
}

/// Unsolicited responses a codec has queued for the controller to poll, each returned once.
struct UnsolicitedQueue {
    private var items: [UInt32] = []
    private var head = 0

    /// Responses waiting.
    var pending: Int { items.count - head }

    /// Queues a response.
    mutating func append(_ response: UInt32) { items.append(response) }

    /// The oldest response, or nil.
    mutating func poll() -> UInt32? {
        guard head < items.count else { return nil }
        let r = items[head]
        head += 1
        if head == items.count { items.removeAll(keepingCapacity: true); head = 0 }
        return r
    }

    /// Drops every response.
    mutating func removeAll() {
        items.removeAll()
        head = 0
    }
}

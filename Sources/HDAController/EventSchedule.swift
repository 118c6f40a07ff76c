/// The engines' next event times in a binary min-heap, so that a batch touches only the
/// engines whose event is due: finding the next event is O(1), finding the due engines
/// costs the due engines (and their heap children), and an engine whose event moves costs
/// O(log engines). An engine's key is the earlier of its next DMA event (while it moves)
/// and its pending SRST latency; the engine keeps its key current itself (`StreamEngine`
/// reports every change of `active`, `nextEvent` and `srst`).
final class EventSchedule {
    /// Each engine's key (UInt64.max: nothing scheduled).
    private(set) var keys: [UInt64]
    /// Engine indices in heap order by key.
    private var heap: [Int]
    /// Each engine's place in `heap`.
    private var place: [Int]

    init(engines: Int) {
        keys = Array(repeating: .max, count: engines)
        heap = Array(0..<engines)
        place = Array(0..<engines)
    }

    /// The earliest key (UInt64.max when nothing is scheduled).
    var earliest: UInt64 { heap.isEmpty ? .max : keys[heap[0]] }

    /// Sets engine `n`'s key.
    func update(_ n: Int, to key: UInt64) {
        let old = keys[n]
        guard key != old else { return }
        keys[n] = key
        if key < old { siftUp(place[n]) } else { siftDown(place[n]) }
    }

    /// The engines whose key is at or before `frame`, one bit per engine index (GCAP allows
    /// at most 60 engines). Visits only those engines and their heap children.
    func due(atOrBefore frame: UInt64) -> UInt64 {
        var mask: UInt64 = 0
        func visit(_ i: Int) {
            guard i < heap.count, keys[heap[i]] <= frame else { return }
            mask |= 1 << UInt64(heap[i])
            visit(2 * i + 1)
            visit(2 * i + 2)
        }
        visit(0)
        return mask
    }

    /// True when the heap order and the places agree (for the invariant check).
    var isConsistent: Bool {
        for i in heap.indices {
            if place[heap[i]] != i { return false }
            if i > 0 && keys[heap[(i - 1) / 2]] > keys[heap[i]] { return false }
        }
        return true
    }

    private func swapAt(_ i: Int, _ j: Int) {
        heap.swapAt(i, j)
        place[heap[i]] = i
        place[heap[j]] = j
    }

    private func siftUp(_ start: Int) {
        var i = start
        while i > 0 {
            let parent = (i - 1) / 2
            guard keys[heap[i]] < keys[heap[parent]] else { return }
            swapAt(i, parent)
            i = parent
        }
    }

    private func siftDown(_ start: Int) {
        var i = start
        while true {
            let l = 2 * i + 1, r = l + 1
            var smallest = i
            if l < heap.count && keys[heap[l]] < keys[heap[smallest]] { smallest = l }
            if r < heap.count && keys[heap[r]] < keys[heap[smallest]] { smallest = r }
            guard smallest != i else { return }
            swapAt(i, smallest)
            i = smallest
        }
    }
}

extension UInt64 {
    /// The indices of the set bits, lowest first.
    var setBits: SetBits { SetBits(word: self) }
}

/// The indices of a word's set bits, lowest first, without allocating.
struct SetBits: Sequence, IteratorProtocol {
    var word: UInt64
    mutating func next() -> Int? {
        guard word != 0 else { return nil }
        let n = word.trailingZeroBitCount
        word &= word &- 1
        return n
    }
}

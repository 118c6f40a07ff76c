/// The engines' next event times in a binary min-heap, so that a batch touches only the
/// engines whose event is due: finding the next event is O(1), finding the due engines
/// costs the due engines (and their heap children), and an engine whose event moves costs
/// O(log engines). An engine's key is the earlier of its next DMA event (while it moves)
/// and its pending SRST latency; the engine keeps its key current itself (`StreamEngine`
/// reports every change of `active`, `nextEvent` and `srst`).
final class EventSchedule {
    /// Engines scheduled.
    let count: Int
    // Fixed storage, allocated once: no array copy-on-write or exclusivity checks on the
    // path every batch takes.
    /// Each engine's key (UInt64.max: nothing scheduled).
    private let key: UnsafeMutablePointer<UInt64>
    /// Engine indices in heap order by key.
    private let heap: UnsafeMutablePointer<Int>
    /// Each engine's place in `heap`.
    private let place: UnsafeMutablePointer<Int>

    init(engines: Int) {
        count = max(0, engines)
        key = .allocate(capacity: max(count, 1))
        heap = .allocate(capacity: max(count, 1))
        place = .allocate(capacity: max(count, 1))
        key.initialize(repeating: .max, count: max(count, 1))
        for i in 0..<max(count, 1) {
            (heap + i).initialize(to: i)
            (place + i).initialize(to: i)
        }
    }

    deinit {
        key.deallocate()
        heap.deallocate()
        place.deallocate()
    }

    /// Each engine's key, in engine order.
    var keys: [UInt64] { (0..<count).map { key[$0] } }

    /// The engines moving samples (`StreamEngine.active`), one bit per engine index, kept by
    /// the engines as their keys are: whoever brings every engine up to date visits these only.
    var active: UInt64 = 0

    /// The earliest key (UInt64.max when nothing is scheduled).
    var earliest: UInt64 { count == 0 ? .max : key[heap[0]] }

    /// Sets engine `n`'s key.
    func update(_ n: Int, to new: UInt64) {
        let old = key[n]
        guard new != old else { return }
        key[n] = new
        if new < old { siftUp(place[n]) } else { siftDown(place[n]) }
    }

    /// The engines whose key is at or before `frame`, one bit per engine index (GCAP allows
    /// at most 60 engines). Visits only those engines and their heap children: a key above
    /// `frame` ends its subtree.
    func due(atOrBefore frame: UInt64) -> UInt64 {
        guard count > 0, key[heap[0]] <= frame else { return 0 }
        return withUnsafeTemporaryAllocation(of: Int.self, capacity: count) { stack in
            var mask: UInt64 = 0, top = 0
            stack[0] = 0
            top = 1
            while top > 0 {
                top -= 1
                let i = stack[top]
                guard key[heap[i]] <= frame else { continue }
                mask |= 1 &<< UInt64(heap[i])
                let l = 2 * i + 1
                if l < count { stack[top] = l; top += 1 }
                if l + 1 < count { stack[top] = l + 1; top += 1 }
            }
            return mask
        }
    }

    /// True when the heap order and the places agree (for the invariant check).
    var isConsistent: Bool {
        for i in 0..<count {
            if place[heap[i]] != i { return false }
            if i > 0 && key[heap[(i - 1) / 2]] > key[heap[i]] { return false }
        }
        return true
    }

    private func swapAt(_ i: Int, _ j: Int) {
        let a = heap[i], b = heap[j]
        heap[i] = b
        heap[j] = a
        place[b] = i
        place[a] = j
    }

    private func siftUp(_ start: Int) {
        var i = start
        while i > 0 {
            let parent = (i - 1) / 2
            guard key[heap[i]] < key[heap[parent]] else { return }
            swapAt(i, parent)
            i = parent
        }
    }

    private func siftDown(_ start: Int) {
        var i = start
        while true {
            let l = 2 * i + 1, r = l + 1
            var smallest = i
            if l < count && key[heap[l]] < key[heap[smallest]] { smallest = l }
            if r < count && key[heap[r]] < key[heap[smallest]] { smallest = r }
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

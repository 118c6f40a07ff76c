import HDAudio
import Synchronization

/// A queue behind a lock of its own (one of the bus's leaf locks), whose length can be read
/// without that lock: the length is written under the lock with every change and read
/// sequentially consistent, so a caller that finds the queue empty skips the lock. Used for
/// the closes and the DISPATCH-level work that wait for the bus lock to be free; nearly every
/// bus routine finds both empty.
///
/// Why sequentially consistent: an ISR that queues work and then finds the bus lock held
/// leaves the work to the holder, which looks at the length after releasing the lock; the
/// length written before that ISR gave up on the lock is what the holder then reads.
final class CountedQueue<Element: Sendable>: Sendable {
    private let items = PThreadMutex<[Element]>([])
    private let length = Atomic<Int>(0)

    /// True when nothing is queued (read without the lock).
    var isEmpty: Bool { length.load(ordering: .sequentiallyConsistent) == 0 }

    /// Queues `element` at the end.
    func append(_ element: Element) {
        items.withLock {
            $0.append(element)
            length.store($0.count, ordering: .sequentiallyConsistent)
        }
    }

    /// Takes the last element queued, or nil.
    func popLast() -> Element? {
        items.withLock { q in
            defer { length.store(q.count, ordering: .sequentiallyConsistent) }
            return q.popLast()
        }
    }

    /// Takes everything queued, in queue order.
    func takeAll() -> [Element] {
        items.withLock { q in
            let all = q
            q.removeAll()
            length.store(0, ordering: .sequentiallyConsistent)
            return all
        }
    }

    /// A copy of what is queued, in queue order.
    var snapshot: [Element] { items.withLock { $0 } }
}

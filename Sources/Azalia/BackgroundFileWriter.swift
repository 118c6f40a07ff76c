import Dispatch
import Foundation
import HDAudio

/// Writes a file's bytes on a thread of its own, so the kernel's copy into the page cache
/// overlaps the caller's work (the simulation) instead of adding to it. At most `depth`
/// buffers wait at any time: `append` blocks while they do, so memory stays bounded
/// (depth x chunk bytes) however much is written.
final class BackgroundFileWriter: Sendable {
    private struct State {
        var queue: [[UInt8]] = []
        /// Buffers written, emptied with their capacity kept, for `append` to hand back.
        var spare: [[UInt8]] = []
        var closed = false
        /// The first write error (errno) or short write.
        var failure: String?
    }

    /// The open file (owned: closed by `finish`).
    let fd: Int32
    private let state = PThreadMutex(State())
    /// Signalled once per buffer queued, and once at close.
    private let work = DispatchSemaphore(value: 0)
    /// Free places in the queue.
    private let slots: DispatchSemaphore
    /// Signalled when the thread has written everything and stopped.
    private let stopped = DispatchSemaphore(value: 0)

    /// A writer appending to `fd` from its current offset.
    init(fd: Int32, depth: Int = 3) {
        self.fd = fd
        slots = DispatchSemaphore(value: max(1, depth))
        let thread = Thread { [self] in self.drain() }
        thread.name = "azalia output writer"
        thread.start()
    }

    private func drain() {
        while true {
            work.wait()
            let next = state.withLock { s -> [UInt8]? in s.queue.isEmpty ? nil : s.queue.removeFirst() }
            guard var buffer = next else { break }
            let failed = state.withLock { $0.failure != nil }
            let problem = failed ? nil : Self.writeAll(fd, buffer)
            // Emptied here, where it is the only reference: the capacity stays for reuse
            // (no new pages to fault in and zero for every piece).
            buffer.removeAll(keepingCapacity: true)
            state.withLock { s in
                if let problem { s.failure = problem }
                s.spare.append(buffer)
            }
            slots.signal()
        }
        stopped.signal()
    }

    /// Writes every byte of `buffer`; the reason in words when it cannot.
    static func writeAll(_ fd: Int32, _ buffer: [UInt8]) -> String? {
        buffer.withUnsafeBytes { b -> String? in
            var done = 0
            while done < b.count {
                let n = write(fd, b.baseAddress! + done, b.count - done)
                if n < 0, errno == EINTR { continue }
                guard n > 0 else { return n < 0 ? String(cString: strerror(errno)).lowercased() : "the file system wrote nothing" }
                done += n
            }
            return nil
        }
    }

    /// Queues `buffer` to be written after everything queued before it (waits while
    /// `depth` buffers are queued), and returns an empty buffer to fill next: one already
    /// written, its capacity kept, when there is one.
    func append(_ buffer: consuming [UInt8]) -> [UInt8] {
        if buffer.isEmpty { return buffer }
        // Moved, not copied, into the queue: the writer thread then holds the only reference.
        var item: [UInt8]? = consume buffer
        slots.wait()
        let spare = state.withLock { s -> [UInt8]? in
            s.queue.append(item.take()!)
            return s.spare.popLast()
        }
        work.signal()
        return spare ?? []
    }

    /// Waits until everything queued is written and stops the thread; the first failure, if any.
    func finish() -> String? {
        let first = state.withLock { s -> Bool in
            defer { s.closed = true }
            return !s.closed
        }
        if first {
            work.signal()
            stopped.wait()
        }
        return state.withLock { $0.failure }
    }
}

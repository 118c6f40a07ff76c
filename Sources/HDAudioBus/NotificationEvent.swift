import Dispatch
import Synchronization
import HDAudio

/// A notification event (the KEVENT of RegisterNotificationEvent) that counts signals.
///
/// The bus signals every registered event once per IOC of the engine's buffer, at
/// DISPATCH_LEVEL, and never merges two IOCs into one signal. A client can read the
/// count, wait synchronously (`wait(timeoutMicroseconds:)`) or with async/await
/// (`wait()`); each wait consumes one signal. `onSignal`, if given, is the client's
/// notification callback: it runs at DISPATCH_LEVEL right after each signal.
public final class NotificationEvent: Sendable, Hashable, CustomStringConvertible {
    private enum Waiter {
        case sync(DispatchSemaphore, id: UInt64)
        case async(CheckedContinuation<Void, Never>)
    }

    private struct State {
        var signalCount = 0
        var pending = 0
        var waiters: [Waiter] = []
        var nextWaiterId: UInt64 = 0
    }

    private let state = PThreadMutex(State())
    private let onSignal: (@Sendable (NotificationEvent) -> Void)?
    /// A name for traces and test output.
    public let name: String

    /// A new event with no signals; `onSignal` is the optional DISPATCH-level callback.
    public init(name: String = "event", onSignal: (@Sendable (NotificationEvent) -> Void)? = nil) {
        self.name = name
        self.onSignal = onSignal
    }

    /// Every signal so far (waits do not lower it).
    public var signalCount: Int { state.withLock { $0.signalCount } }
    /// Signals not yet consumed by a wait.
    public var pendingSignals: Int { state.withLock { $0.pending } }

    /// Signals the event once: wakes the oldest waiter, or keeps the signal pending.
    /// The bus calls this at DISPATCH_LEVEL; then it runs `onSignal`.
    public func signal() {
        let woken: Waiter? = state.withLock { s in
            s.signalCount += 1
            if s.waiters.isEmpty {
                s.pending += 1
                return nil
            }
            return s.waiters.removeFirst()
        }
        switch woken {
        case .sync(let semaphore, _)?: semaphore.signal()
        case .async(let continuation)?: continuation.resume()
        case nil: break
        }
        onSignal?(self)
    }

    /// Consumes one signal without waiting; false when none is pending.
    public func tryWait() -> Bool {
        state.withLock { s in
            guard s.pending > 0 else { return false }
            s.pending -= 1
            return true
        }
    }

    /// Waits synchronously for one signal, at most `timeoutMicroseconds` of wall time
    /// (forever when nil); true when a signal was consumed.
    public func wait(timeoutMicroseconds: UInt64? = nil) -> Bool {
        let semaphore = DispatchSemaphore(value: 0)
        let id: UInt64? = state.withLock { s in
            if s.pending > 0 {
                s.pending -= 1
                return nil
            }
            s.nextWaiterId += 1
            s.waiters.append(.sync(semaphore, id: s.nextWaiterId))
            return s.nextWaiterId
        }
        guard let id else { return true }
        // Timeouts beyond a day wait forever (and never overflow DispatchTime).
        let deadline: DispatchTime = timeoutMicroseconds.flatMap { $0 <= 86_400_000_000 ? DispatchTime.now() + .microseconds(Int($0)) : nil }
            ?? .distantFuture
        if semaphore.wait(timeout: deadline) == .success { return true }
        let stillWaiting = state.withLock { s in
            if let at = s.waiters.firstIndex(where: { if case .sync(_, let w) = $0 { w == id } else { false } }) {
                s.waiters.remove(at: at)
                return true
            }
            return false
        }
        if stillWaiting { return false }
        // A signal was handed to this waiter while it timed out: take it.
        semaphore.wait()
        return true
    }

    /// Waits with async/await for one signal and consumes it (not cancellable: a waiter
    /// stays until a signal comes).
    public func wait() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let resumeNow = state.withLock { s in
                if s.pending > 0 {
                    s.pending -= 1
                    return true
                }
                s.waiters.append(.async(continuation))
                return false
            }
            if resumeNow { continuation.resume() }
        }
    }

    /// Identity.
    public static func == (lhs: NotificationEvent, rhs: NotificationEvent) -> Bool { lhs === rhs }
    /// Identity.
    public func hash(into hasher: inout Hasher) { hasher.combine(ObjectIdentifier(self)) }
    /// `event(3 signals)`.
    public var description: String { "\(name)(\(signalCount) signals)" }
}

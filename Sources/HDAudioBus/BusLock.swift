import HDAudio
import Synchronization

/// The bus lock, the IRQL check, deferred closes and the deferred work the ISR queues.
extension HDAudioBus {

    /// Runs `body` under the bus lock, then runs what was deferred meanwhile: closes of
    /// connections whose last reference went away under the lock (a client's callback or
    /// event released by the bus), and DISPATCH-level signals queued by the ISR.
    func locked<R: Sendable>(_ body: (inout BusState) throws(NTStatus) -> R) throws(NTStatus) -> R {
        runPendingCloses()   // closes requested above PASSIVE_LEVEL take effect first
        var result: Result<R, NTStatus>? = nil
        BusLockContext.$held.withValue(true) {
            result = state.withLock { (s: inout BusState) -> Result<R, NTStatus> in
                // A close requested at DISPATCH or DIRQL invalidates the client's handles at
                // once, even though its engines are freed only at the next PASSIVE routine.
                s.closingClients = pendingCloses.isEmpty ? [] : Set(pendingCloses.snapshot)
                return Result { () throws(NTStatus) -> R in try body(&s) }
            }
        }
        runPendingCloses()
        runDeferredSignals()
        return try result!.get()
    }

    /// Closes connections whose close was deferred (bus lock held, or above PASSIVE_LEVEL);
    /// does nothing while either still holds.
    func runPendingCloses() {
        guard !pendingCloses.isEmpty, !BusLockContext.held, platform.currentIRQL == .passive else { return }
        while let client = pendingCloses.popLast() { closeClient(client) }
    }

    /// The IRQL rule: STATUS_UNSUCCESSFUL above `level`.
    func require(_ level: IRQL) throws(NTStatus) {
        if platform.currentIRQL > level { throw .unsuccessful }
    }

    /// Runs queued DISPATCH-level work (notification signals, codec-verb completions,
    /// unsolicited-response callbacks) in queue order, unless the bus lock is held (by this
    /// thread, inside a stall, or by another): its holder runs the queue on release.
    func runDeferredSignals() {
        while !deferredWork.isEmpty {
            let batch: [@Sendable () -> Void]? = state.withLockIfAvailable { _ in deferredWork.takeAll() }
            guard let batch, !batch.isEmpty else { return }
            platform.withIRQL(.dispatch) {
                for work in batch { work() }
            }
        }
    }

    /// Queues DISPATCH-level work (a DPC) to run once the bus lock is free.
    func queueDeferred(_ work: @escaping @Sendable () -> Void) {
        deferredWork.append(work)
    }
}

/// Whether the current thread (task) holds the bus lock.
enum BusLockContext {
    @TaskLocal static var held = false
}

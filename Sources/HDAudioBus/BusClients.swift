public import HDAudio
import Synchronization

/// Clients: opening an interface, closing it, and whether it is still open.
extension HDAudioBus {

    /// Opens an interface for the function driver of the codec at `codecAddress` (0 to 14),
    /// of the DDI version `version` (`.base`, `.v2`, `.bdl`); the result offers exactly that
    /// version's routines. STATUS_INVALID_PARAMETER for an address outside 0 to 14;
    /// STATUS_UNSUCCESSFUL above PASSIVE_LEVEL (IRP_MN_QUERY_INTERFACE is a PASSIVE_LEVEL request).
    public func openInterface<V: InterfaceVersion>(codecAddress: Int, version: V) throws(NTStatus) -> V.Interface {
        try require(.passive)
        guard !BusLockContext.held else { throw .unsuccessful }
        guard (0..<HDAudioBus.maxSDILines).contains(codecAddress) else { throw .invalidParameter }
        let id = state.withLock { s in
            let closing = Set(pendingCloses.snapshot)   // lock order: state, then pendingCloses
            // Client ids wrap after 2^32 - 1 opens; an id still open (or closing) is never
            // issued again, so a new client can never inherit another's handles.
            var id = s.nextClient
            while s.openClients[id] != nil || closing.contains(id) { id = id == UInt32.max ? 1 : id + 1 }
            s.nextClient = id == UInt32.max ? 1 : id + 1
            s.openClients[id] = version.kind
            return id
        }
        return version.makeInterface(BusConnection(bus: self, client: id, codecAddress: codecAddress, kind: version.kind))
    }

    /// Closes a client: stops and resets its engines, frees its buffers, engines and events.
    /// The close stalls (stream handshakes), so it runs only at PASSIVE_LEVEL without the
    /// bus lock. Requested above PASSIVE_LEVEL (from a BDL ISR at DIRQL, or a callback or
    /// event at DISPATCH_LEVEL) or with the bus lock held by this thread (a connection
    /// released inside a bus routine), it is deferred: `runPendingCloses` carries it out in
    /// the next bus routine that runs at PASSIVE_LEVEL and takes the bus lock, before it
    /// takes the lock (so the closed client's own later calls fail) and again when it
    /// releases it. Until then the client's engines keep their state.
    func closeClient(_ client: UInt32) {
        if BusLockContext.held || platform.currentIRQL > .passive {
            pendingCloses.append(client)
            return
        }
        _ = try? locked { (s: inout BusState) throws(NTStatus) in
            guard s.openClients.removeValue(forKey: client) != nil else { return }
            dropCallbacks(client: client)
            let owned = s.engines.indices.filter { s.engines[$0].allocation?.client == client }
            let running = owned.filter { s.engines[$0].allocation?.state == .run }
            _ = stopTogether(running)
            for i in owned {
                if s.engines[i].allocation?.state != .reset { _ = streamReset(i) }
                releaseBuffer(i, &s)
                release(i, &s)
            }
        }
    }

    /// True while a client is open and no close of it is pending.
    func isOpen(_ client: UInt32) -> Bool {
        state.withLock { $0.openClients[client] != nil } && !pendingCloses.snapshot.contains(client)
    }
}

import CAzalia
import HDAudio
import HDAudioBus
import Synchronization

/// An opened interface, as a C driver holds it: the Swift interface, its reference count,
/// and the C-side bookkeeping that maps the driver's pointers to Swift values.
final class CClient: Sendable {
    /// What the C side remembers of the client's allocations (never a rule of the DDI:
    /// every status comes from the Swift interface).
    struct Books: Sendable {
        var references = 1
        var closed = false
        /// Render or capture, per engine handle (which way its buffer's copy syncs).
        var directions: [UInt: StreamDirection] = [:]
        /// The MDL handed out for each handle's DMA buffer, and the Swift MDL behind it.
        var mdls: [UInt: (mdl: UInt, swift: MemoryDescriptorList)] = [:]
        /// The data and BDL copies of each handle's contiguous buffer.
        var contiguous: [UInt: (data: UInt, bdl: UInt)] = [:]
        /// One Swift event per KEVENT, reused, so the bus sees the same event each time.
        var events: [UInt: NotificationEvent] = [:]
        /// One Swift callback per C routine address, reused (Unregister matches on it).
        var callbacks: [UInt: DmaNotificationCallback] = [:]
        /// The host ULONG handed out for each handle's link position.
        var positions: [UInt: UInt] = [:]
    }

    let token: UInt
    let system: CSystem
    let interface: any HDAudioBusInterface
    let books = PThreadMutex(Books())

    init(token: UInt, system: CSystem, interface: any HDAudioBusInterface) {
        self.token = token
        self.system = system
        self.interface = interface
    }

    /// InterfaceReference: one more reference (none after the last dereference).
    func reference() {
        books.withLock { b in if !b.closed { b.references += 1 } }
    }

    /// InterfaceDereference: one fewer; the last closes the client (Swift close()).
    func dereference() {
        let close = books.withLock { b -> Bool in
            guard !b.closed else { return false }
            b.references -= 1
            if b.references > 0 { return false }
            b.closed = true
            return true
        }
        if close { closeNow() }
    }

    /// Closes the Swift interface and stops syncing the client's buffer copies.
    func closeNow() {
        system.enter { interface.close() }
        system.detachMirrors(client: token)
        let owned = books.withLock { b -> [UInt] in
            let list = b.mdls.values.map(\.mdl)
            b.mdls.removeAll()
            b.contiguous.removeAll()
            return list
        }
        system.allocations.withLock { $0.formUnion(owned) }
    }

    /// Runs a routine at the seams and turns its result into an NTSTATUS.
    func call(_ body: () throws(NTStatus) -> Void) -> NTSTATUS {
        system.enter { () -> NTSTATUS in
            do throws(NTStatus) {
                try body()
                return STATUS_SUCCESS
            } catch {
                return NTSTATUS(bitPattern: error.rawValue)
            }
        }
    }

    /// The Swift event for a KEVENT (the same object for the same KEVENT).
    func event(for kevent: PKEVENT) -> NotificationEvent {
        let key = UInt(bitPattern: kevent)
        let sys = system
        return books.withLock { b in
            if let e = b.events[key] { return e }
            let e = NotificationEvent(name: "KEVENT") { _ in
                sys.callOut { _ = KeSetEvent(PKEVENT(bitPattern: key), 0, 0) }
            }
            b.events[key] = e
            return e
        }
    }

    /// The Swift callback for a C notification routine (the same object for the same routine).
    func callback(for routine: @escaping PHDAUDIO_DMA_NOTIFICATION_CALLBACK) -> DmaNotificationCallback {
        let key = UInt(bitPattern: unsafeBitCast(routine, to: UnsafeRawPointer.self))
        let sys = system
        return books.withLock { b in
            if let c = b.callbacks[key] { return c }
            let c = DmaNotificationCallback { qpc, context in
                let f = unsafeBitCast(UnsafeRawPointer(bitPattern: key)!, to: PHDAUDIO_DMA_NOTIFICATION_CALLBACK.self)
                sys.callOut { f(UnsafeMutableRawPointer(bitPattern: context), LARGE_INTEGER(QuadPart: qpc)) }
            }
            b.callbacks[key] = c
            return c
        }
    }
}

/// The FDO reference the bus holds for a V3 callback registration: DEVICE_OBJECT's
/// ReferenceCount goes up when the bus takes it and down when the bus lets it go.
final class FdoReference: Sendable {
    let address: UInt

    init(_ fdo: PDEVICE_OBJECT) {
        address = UInt(bitPattern: fdo)
        FdoReference.adjust(address, by: 1)
    }

    deinit { FdoReference.adjust(address, by: -1) }

    static func adjust(_ address: UInt, by delta: Int32) {
        guard let p = UnsafeMutablePointer<DEVICE_OBJECT>(bitPattern: address) else { return }
        p.pointee.ReferenceCount += delta
    }
}

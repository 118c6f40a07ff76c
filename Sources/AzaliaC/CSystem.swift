import Azalia
import CAzalia
import Foundation
import HDACodec
import HDAController
import HDAudio
import HDAudioBus
import Synchronization

/// A host copy of a DMA buffer the bus allocated in guest memory: what the C driver's
/// pointers (MmGetSystemAddressForMdlSafe, DataBuffer, BdlBuffer) point at.
///
/// The copy and guest memory are kept equal at the seams between C code and time: a copy
/// the driver writes (render data, a BDL page) goes to guest memory whenever the driver
/// hands control to the library (a routine, a time step) and when a callback returns; a
/// copy the device writes (capture data) comes back before any C code runs again (a
/// routine returns, a time step ends, a callback is called).
struct HostMirror: Sendable {
    /// The host copy's address.
    let host: UInt
    /// Its length in bytes.
    let length: Int
    /// The guest pages behind it, in order (the buffer starts at the first one's start).
    let pages: [UInt64]
    /// True when the driver writes it (render, BDL page), false when the device does.
    let driverWrites: Bool
    /// The client that owns it.
    let client: UInt
}

/// One live register view handed to C: a host ULONG refreshed from the view as time moves.
struct RegisterSlot: Sendable {
    let address: UInt
    let view: RegisterView
}

/// A system built for C: the Swift `AzaliaSystem`, its memory sinks, and what the C side
/// keeps in host memory (buffer copies, register slots).
final class CSystem: Sendable {
    let token: UInt
    let system: AzaliaSystem
    let memorySinks: [Int: [Int: RecordingSink]]
    let mirrors = PThreadMutex<[UInt: HostMirror]>([:])
    let registers = PThreadMutex<[RegisterSlot]>([])
    /// Host allocations to free at destroy (register slots, buffers of closed clients).
    let allocations = PThreadMutex<Set<UInt>>([])
    /// The host ULONG GetWallClockRegister hands out.
    let wallClockSlot: UInt

    init(token: UInt, system: AzaliaSystem, memorySinks: [Int: [Int: RecordingSink]]) {
        self.token = token
        self.system = system
        self.memorySinks = memorySinks
        wallClockSlot = CSystem.allocateSlot()
    }

    static func allocateSlot() -> UInt {
        let p = UnsafeMutableRawPointer.allocate(byteCount: 8, alignment: 8)
        p.storeBytes(of: 0, as: UInt64.self)
        return UInt(bitPattern: p)
    }

    var platform: VirtualPlatform { system.platform }

    // MARK: the seams

    /// Runs a library routine for C: the driver's writes go to guest memory first; the
    /// device's writes and the registers come back after.
    func enter<R>(_ body: () -> R) -> R {
        pushDriverWrites()
        let r = body()
        pullDeviceWrites()
        return r
    }

    /// Calls C code from inside the library (a callback, an ISR, an event): the device's
    /// writes and registers come to the host first; the driver's writes go back after.
    func callOut(_ body: () -> Void) {
        pullDeviceWrites()
        body()
        pushDriverWrites()
    }

    func pushDriverWrites() {
        let list = mirrors.withLock { Array($0.values) }
        for m in list where m.driverWrites { copy(m, toGuest: true) }
    }

    func pullDeviceWrites() {
        let list = mirrors.withLock { Array($0.values) }
        for m in list where !m.driverWrites { copy(m, toGuest: false) }
        refreshRegisters()
    }

    func refreshRegisters() {
        let value = wallClockView?.value ?? 0
        UnsafeMutablePointer<UInt32>(bitPattern: wallClockSlot)?.pointee = value
        for slot in registers.withLock({ $0 }) {
            UnsafeMutablePointer<UInt32>(bitPattern: slot.address)?.pointee = slot.view.value
        }
    }

    let wallClockViewStore = PThreadMutex<RegisterView?>(nil)
    var wallClockView: RegisterView? { wallClockViewStore.withLock { $0 } }

    private func copy(_ m: HostMirror, toGuest: Bool) {
        guard let base = UnsafeMutableRawPointer(bitPattern: m.host) else { return }
        let page = platform.pageSize
        var done = 0
        for address in m.pages where done < m.length {
            let n = min(page, m.length - done)
            if toGuest {
                _ = platform.writeMemory(address, from: UnsafeRawBufferPointer(start: base + done, count: n))
            } else {
                _ = platform.readMemory(address, into: UnsafeMutableRawBufferPointer(start: base + done, count: n))
            }
            done += n
        }
    }

    // MARK: host memory

    /// A zeroed host copy of `length` bytes over `pages`, kept in sync from now on.
    func addMirror(length: Int, pages: [UInt64], driverWrites: Bool, client: UInt) -> UnsafeMutableRawPointer {
        let p = UnsafeMutableRawPointer.allocate(byteCount: max(length, 1), alignment: 128)
        p.initializeMemory(as: UInt8.self, repeating: 0, count: max(length, 1))
        let m = HostMirror(host: UInt(bitPattern: p), length: length, pages: pages, driverWrites: driverWrites, client: client)
        mirrors.withLock { $0[m.host] = m }
        copy(m, toGuest: false)
        return p
    }

    /// Stops syncing a host copy and frees it.
    func removeMirror(_ host: UInt) {
        guard mirrors.withLock({ $0.removeValue(forKey: host) }) != nil else { return }
        UnsafeMutableRawPointer(bitPattern: host)?.deallocate()
    }

    /// Stops syncing every copy of a client (its buffers were freed by its close); the
    /// memory stays until the system is destroyed, as the driver may still hold pointers.
    func detachMirrors(client: UInt) {
        let gone = mirrors.withLock { m -> [UInt] in
            let keys = m.values.filter { $0.client == client }.map(\.host)
            for k in keys { m.removeValue(forKey: k) }
            return keys
        }
        allocations.withLock { $0.formUnion(gone) }
    }

    /// The guest physical address of a host address inside a copy, or 0.
    func physicalAddress(of address: UInt) -> UInt64 {
        let list = mirrors.withLock { Array($0.values) }
        for m in list where address >= m.host && address < m.host + UInt(m.length) {
            let offset = Int(address - m.host)
            let page = platform.pageSize
            return m.pages[offset / page] + UInt64(offset % page)
        }
        return 0
    }

    /// A host ULONG that follows `view` as time moves.
    func registerSlot(for view: RegisterView) -> UInt {
        let address = CSystem.allocateSlot()
        registers.withLock { $0.append(RegisterSlot(address: address, view: view)) }
        UnsafeMutablePointer<UInt32>(bitPattern: address)?.pointee = view.value
        return address
    }

    // MARK: time

    /// Moves link time by `frames`, at the seams.
    func advance(frames: UInt64) {
        enter { system.advance(frames: frames) }
    }

    /// Frees the host memory (after every client is closed).
    func freeHostMemory() {
        let all = mirrors.withLock { m -> [UInt] in
            let k = Array(m.keys)
            m.removeAll()
            return k
        }
        let rest = allocations.withLock { a -> [UInt] in
            let k = Array(a)
            a.removeAll()
            return k
        }
        let slots = registers.withLock { r -> [UInt] in
            let k = r.map(\.address)
            r.removeAll()
            return k
        }
        for address in all + rest + slots + [wallClockSlot] { UnsafeMutableRawPointer(bitPattern: address)?.deallocate() }
    }
}

/// Every live system and client, by the values handed to C. Values C passes in are looked
/// up here, never dereferenced, so a garbage value is a status and not a crash.
enum Registry {
    static let systems = PThreadMutex<[UInt: CSystem]>([:])
    static let clients = PThreadMutex<[UInt: CClient]>([:])
    static let nextId = Atomic<UInt>(1)
    /// Which system each KEVENT was registered with (for KeWaitForSingleObject).
    static let eventSystems = PThreadMutex<[UInt: UInt]>([:])
    /// The system created last (KeWaitForSingleObject on an event registered nowhere).
    static let lastSystem = PThreadMutex<UInt?>(nil)

    /// A new value to hand out: odd multiples of 16 above a tag, so never a valid heap
    /// pointer a driver might confuse it with, and never 0.
    static func newToken(tag: UInt) -> UInt {
        tag | (nextId.wrappingAdd(1, ordering: .relaxed).oldValue << 4)
    }

    static let systemTag: UInt = 0x5A5A_0000_0000_0003
    static let clientTag: UInt = 0x2A2A_0000_0000_0005

    static func system(_ token: UnsafeMutableRawPointer?) -> CSystem? {
        guard let token else { return nil }
        return systems.withLock { $0[UInt(bitPattern: token)] }
    }

    static func client(_ token: UnsafeMutableRawPointer?) -> CClient? {
        guard let token else { return nil }
        return clients.withLock { $0[UInt(bitPattern: token)] }
    }
}

import Azalia
public import CAzalia
import Foundation
import HDACodec
import HDAController
import HDAudio
import HDAudioBus

// libazalia's entry API (azalia.h) and the hooks behind wdm.h's KeWaitForSingleObject,
// KeGetCurrentIrql and MmGetPhysicalAddress.

func systemToken(_ p: OpaquePointer?) -> UnsafeMutableRawPointer? { UnsafeMutableRawPointer(p) }

/// Which interface a GUID names, and the size of its table.
func interfaceKind(_ guid: GUID) -> (InterfaceKind, Int)? {
    func same(_ a: GUID, _ b: GUID) -> Bool {
        withUnsafeBytes(of: a) { x in withUnsafeBytes(of: b) { y in x.elementsEqual(y) } }
    }
    if same(guid, GUID_HDAUDIO_BUS_INTERFACE) { return (.base, MemoryLayout<HDAUDIO_BUS_INTERFACE>.size) }
    if same(guid, GUID_HDAUDIO_BUS_INTERFACE_V2) { return (.v2, MemoryLayout<HDAUDIO_BUS_INTERFACE_V2>.size) }
    if same(guid, GUID_HDAUDIO_BUS_INTERFACE_V3) { return (.v3, MemoryLayout<HDAUDIO_BUS_INTERFACE_V3>.size) }
    if same(guid, GUID_HDAUDIO_BUS_INTERFACE_BDL) { return (.bdl, MemoryLayout<HDAUDIO_BUS_INTERFACE_BDL>.size) }
    return nil
}

/// Fills an interface table of `kind` at `p`.
func fillTable(_ p: UnsafeMutableRawPointer, kind: InterfaceKind, size: Int, version: UInt16, context: UInt) {
    typealias R = Routines
    let ctx = UnsafeMutableRawPointer(bitPattern: context)
    switch kind {
    case .bdl:
        var t = HDAUDIO_BUS_INTERFACE_BDL()
        t.Size = UInt16(size); t.Version = version; t.Context = ctx
        t.InterfaceReference = R.reference; t.InterfaceDereference = R.dereference
        t.TransferCodecVerbs = R.transferCodecVerbs
        t.AllocateCaptureDmaEngine = R.allocateCaptureDmaEngine; t.AllocateRenderDmaEngine = R.allocateRenderDmaEngine
        t.ChangeBandwidthAllocation = R.changeBandwidthAllocation
        t.AllocateContiguousDmaBuffer = R.allocateContiguousDmaBuffer; t.SetupDmaEngineWithBdl = R.setupDmaEngineWithBdl
        t.FreeContiguousDmaBuffer = R.freeContiguousDmaBuffer
        t.FreeDmaEngine = R.freeDmaEngine; t.SetDmaEngineState = R.setDmaEngineState
        t.GetWallClockRegister = R.getWallClockRegister; t.GetLinkPositionRegister = R.getLinkPositionRegister
        t.RegisterEventCallback = R.registerEventCallback; t.UnregisterEventCallback = R.unregisterEventCallback
        t.GetDeviceInformation = R.getDeviceInformation; t.GetResourceInformation = R.getResourceInformation
        p.storeBytes(of: t, as: HDAUDIO_BUS_INTERFACE_BDL.self)
    case .base, .v2, .v3:
        // The three share their first 19 members; V2 adds four, V3 two more.
        var t = HDAUDIO_BUS_INTERFACE_V3()
        t.Size = UInt16(size); t.Version = version; t.Context = ctx
        t.InterfaceReference = R.reference; t.InterfaceDereference = R.dereference
        t.TransferCodecVerbs = R.transferCodecVerbs
        t.AllocateCaptureDmaEngine = R.allocateCaptureDmaEngine; t.AllocateRenderDmaEngine = R.allocateRenderDmaEngine
        t.ChangeBandwidthAllocation = R.changeBandwidthAllocation
        t.AllocateDmaBuffer = R.allocateDmaBuffer; t.FreeDmaBuffer = R.freeDmaBuffer
        t.FreeDmaEngine = R.freeDmaEngine; t.SetDmaEngineState = R.setDmaEngineState
        t.GetWallClockRegister = R.getWallClockRegister; t.GetLinkPositionRegister = R.getLinkPositionRegister
        t.RegisterEventCallback = R.registerEventCallback; t.UnregisterEventCallback = R.unregisterEventCallback
        t.GetDeviceInformation = R.getDeviceInformation; t.GetResourceInformation = R.getResourceInformation
        t.AllocateDmaBufferWithNotification = R.allocateDmaBufferWithNotification
        t.FreeDmaBufferWithNotification = R.freeDmaBufferWithNotification
        t.RegisterNotificationEvent = R.registerNotificationEvent
        t.UnregisterNotificationEvent = R.unregisterNotificationEvent
        t.RegisterNotificationCallback = R.registerNotificationCallback
        t.UnregisterNotificationCallback = R.unregisterNotificationCallback
        withUnsafeBytes(of: &t) { p.copyMemory(from: $0.baseAddress!, byteCount: size) }
    }
}

enum Hooks {
    static func install() {
        var hooks = AZALIA_WDM_HOOKS()
        hooks.Wait = { event, timeout in Hooks.wait(event, timeout) }
        hooks.CurrentIrql = {
            let token = Registry.lastSystem.withLock { $0 }
            guard let token, let s = Registry.systems.withLock({ $0[token] }) else { return 0 }
            return KIRQL(s.platform.currentIRQL.rawValue)
        }
        hooks.PhysicalAddress = { address in
            let a = UInt(bitPattern: address)
            for s in Registry.systems.withLock({ Array($0.values) }) {
                let p = s.physicalAddress(of: a)
                if p != 0 { return LONGLONG(bitPattern: p) }
            }
            return 0
        }
        AzaliaSetWdmHooks(&hooks)
    }

    /// Link frames in `units` of 100 ns, rounded up (48 000 frames a second = 3 / 625).
    static func frames(hundredNanoseconds units: UInt64) -> UInt64 {
        let (p, o) = units.multipliedReportingOverflow(by: 3)
        return o ? UInt64.max / 625 : (p + 624) / 625
    }

    /// The longest a wait with no timeout moves link time: 10 s.
    static let unlimitedWaitFrames: UInt64 = 480_000

    static func wait(_ event: PKEVENT?, _ timeout: UnsafeMutablePointer<LARGE_INTEGER>?) -> NTSTATUS {
        guard let event else { return invalidParameter }
        let token = Registry.eventSystems.withLock { $0[UInt(bitPattern: event)] } ?? Registry.lastSystem.withLock { $0 }
        guard let token, let s = Registry.systems.withLock({ $0[token] }) else {
            return AzaliaTryAcquireEvent(event) != 0 ? STATUS_SUCCESS : NTSTATUS(0x102)
        }
        let limit: UInt64
        if let t = timeout?.pointee.QuadPart {
            if t <= 0 {
                limit = frames(hundredNanoseconds: t.magnitude)
            } else {
                let deadline = frames(hundredNanoseconds: UInt64(t))
                let now = s.system.frame
                limit = deadline > now ? deadline - now : 0
            }
        } else {
            limit = unlimitedWaitFrames
        }
        s.pushDriverWrites()
        defer { s.pullDeviceWrites() }
        var moved: UInt64 = 0
        while true {
            if AzaliaTryAcquireEvent(event) != 0 { return STATUS_SUCCESS }
            if moved >= limit { return NTSTATUS(0x102) }
            s.system.advance(frames: 1)
            moved += 1
        }
    }
}

@_cdecl("AzaliaCreateSystem")
public func azaliaCreateSystem(_ profile: UnsafePointer<CChar>?, _ codecs: UnsafePointer<AZALIA_CODEC>?,
                               _ count: ULONG, _ out: UnsafeMutablePointer<OpaquePointer?>?) -> NTSTATUS {
    azaliaCreateSystemEx(profile, codecs, count, nil, 0, out)
}

@_cdecl("AzaliaCreateSystemEx")
public func azaliaCreateSystemEx(_ profile: UnsafePointer<CChar>?, _ codecs: UnsafePointer<AZALIA_CODEC>?, _ count: ULONG,
                                 _ dumps: UnsafePointer<AZALIA_DUMP_CODEC>?, _ dumpCount: ULONG,
                                 _ out: UnsafeMutablePointer<OpaquePointer?>?) -> NTSTATUS {
    guard let profile, let out, count == 0 || codecs != nil, dumpCount == 0 || dumps != nil else { return invalidParameter }
    var built: [Int: any LinkCodec] = [:]
    var sinks: [Int: [Int: RecordingSink]] = [:]
    func free(_ address: UInt8) -> Int? {
        let a = Int(address)
        return a < HDAudioBus.maxSDILines && built[a] == nil ? a : nil
    }
    do throws(LinkCodecs.Refused) {
        for k in 0..<Int(count) {
            guard let address = free(codecs![k].Address) else { return invalidParameter }
            built[address] = try LinkCodecs.virtualCodec(codecs![k], address: address) { sinks[address, default: [:]][$0] = $1 }
        }
        for k in 0..<Int(dumpCount) {
            guard let address = free(dumps![k].Address) else { return invalidParameter }
            built[address] = try LinkCodecs.dumpCodec(dumps![k], address: address) { sinks[address, default: [:]][$0] = $1 }
        }
    } catch {
        return invalidParameter
    }
    let system: AzaliaSystem
    do {
        system = try AzaliaSystem(profileNamed: String(cString: profile), codecs: built)
    } catch {
        switch error {
        case .unknownProfile: return invalidParameter
        case .busStart(let status): return nt(status)
        }
    }
    let token = Registry.newToken(tag: Registry.systemTag)
    let s = CSystem(token: token, system: system, memorySinks: sinks)
    Hooks.install()
    Registry.systems.withLock { $0[token] = s }
    Registry.lastSystem.withLock { $0 = token }
    out.pointee = OpaquePointer(bitPattern: token)
    return STATUS_SUCCESS
}

@_cdecl("AzaliaDestroySystem")
public func azaliaDestroySystem(_ system: OpaquePointer?) -> NTSTATUS {
    guard let token = systemToken(system).map({ UInt(bitPattern: $0) }),
          let s = Registry.systems.withLock({ $0.removeValue(forKey: token) }) else { return nt(.invalidHandle) }
    let clients = Registry.clients.withLock { c -> [CClient] in
        let mine = c.values.filter { $0.system === s }
        for m in mine { c.removeValue(forKey: m.token) }
        return mine
    }
    for c in clients where !c.books.withLock({ $0.closed }) {
        c.books.withLock { $0.closed = true }
        c.closeNow()
    }
    Registry.eventSystems.withLock { $0 = $0.filter { $0.value != token } }
    Registry.lastSystem.withLock { if $0 == token { $0 = nil } }
    s.freeHostMemory()
    return STATUS_SUCCESS
}

@_cdecl("AzaliaQueryBusInterface")
public func azaliaQueryBusInterface(_ system: OpaquePointer?, _ codecAddress: UInt8, _ guid: UnsafePointer<GUID>?,
                                    _ size: USHORT, _ version: USHORT, _ interface: UnsafeMutablePointer<INTERFACE>?) -> NTSTATUS {
    guard let s = Registry.system(systemToken(system)) else { return nt(.invalidHandle) }
    guard let guid, let interface else { return invalidParameter }
    guard let (kind, needed) = interfaceKind(guid.pointee) else { return NTSTATUS(bitPattern: 0xC000_00BB) }
    guard version == 1 || version == 0x0100 else { return NTSTATUS(bitPattern: 0xC000_00BB) }
    guard Int(size) >= needed else { return invalidParameter }
    let opened: any HDAudioBusInterface
    do throws(NTStatus) {
        let a = Int(codecAddress)
        switch kind {
        case .base: opened = try s.system.openInterface(codecAddress: a, version: .base)
        case .v2: opened = try s.system.openInterface(codecAddress: a, version: .v2)
        case .v3: opened = try s.system.openInterface(codecAddress: a, version: .v3)
        case .bdl: opened = try s.system.openInterface(codecAddress: a, version: .bdl)
        }
    } catch {
        return nt(error)
    }
    let token = Registry.newToken(tag: Registry.clientTag)
    let client = CClient(token: token, system: s, interface: opened)
    Registry.clients.withLock { $0[token] = client }
    fillTable(UnsafeMutableRawPointer(interface), kind: kind, size: needed, version: version, context: token)
    return STATUS_SUCCESS
}

@_cdecl("AzaliaAdvanceFrames")
public func azaliaAdvanceFrames(_ system: OpaquePointer?, _ frames: ULONGLONG) -> NTSTATUS {
    guard let s = Registry.system(systemToken(system)) else { return nt(.invalidHandle) }
    s.advance(frames: frames)
    return STATUS_SUCCESS
}

@_cdecl("AzaliaRunPaced")
public func azaliaRunPaced(_ system: OpaquePointer?, _ microseconds: ULONGLONG) -> NTSTATUS {
    guard let s = Registry.system(systemToken(system)) else { return nt(.invalidHandle) }
    let total = microseconds.multipliedReportingOverflow(by: 48).partialValue / 1000
    let start = DispatchTime.now().uptimeNanoseconds
    var done: UInt64 = 0
    while done < total {
        let step = min(48, total - done)
        s.advance(frames: step)
        done += step
        let due = start + done * 1_000_000_000 / 48_000
        let now = DispatchTime.now().uptimeNanoseconds
        if due > now { usleep(useconds_t((due - now) / 1000)) }
    }
    return STATUS_SUCCESS
}

@_cdecl("AzaliaGetLinkFrame")
public func azaliaGetLinkFrame(_ system: OpaquePointer?, _ frame: UnsafeMutablePointer<ULONGLONG>?) -> NTSTATUS {
    guard let s = Registry.system(systemToken(system)) else { return nt(.invalidHandle) }
    guard let frame else { return invalidParameter }
    frame.pointee = s.system.frame
    return STATUS_SUCCESS
}

@_cdecl("AzaliaReadMemorySink")
public func azaliaReadMemorySink(_ system: OpaquePointer?, _ codecAddress: UInt8, _ dac: ULONG, _ buffer: UnsafeMutableRawPointer?,
                                 _ length: SIZE_T, _ available: UnsafeMutablePointer<SIZE_T>?) -> NTSTATUS {
    guard let s = Registry.system(systemToken(system)) else { return nt(.invalidHandle) }
    guard let available, length == 0 || buffer != nil,
          let sink = s.memorySinks[Int(codecAddress)]?[Int(dac)] else { return invalidParameter }
    let data = sink.data
    available.pointee = SIZE_T(data.count)
    let n = min(Int(length), data.count)
    if n > 0 { data.withUnsafeBytes { buffer!.copyMemory(from: $0.baseAddress!, byteCount: n) } }
    return STATUS_SUCCESS
}

@_cdecl("AzaliaRaiseUnsolicited")
public func azaliaRaiseUnsolicited(_ system: OpaquePointer?, _ codecAddress: UInt8, _ node: UInt8, _ payload: ULONG) -> NTSTATUS {
    guard let s = Registry.system(systemToken(system)) else { return nt(.invalidHandle) }
    let result: Bool? = s.platform.withController { c -> Bool? in
        guard let codec = c.codec(at: Int(codecAddress)) as? VirtualCodec else { return nil }
        return codec.raiseUnsolicited(node: node, payload: payload)
    }
    guard let queued = result else { return invalidParameter }
    return queued ? STATUS_SUCCESS : nt(.unsuccessful)
}

/// A sink that passes on only the first `blocks` sample blocks it receives.
final class TrimmedSink: SampleSink {
    let inner: any SampleSink
    var remaining: UInt64

    init(_ inner: any SampleSink, blocks: UInt64) {
        self.inner = inner
        remaining = blocks
    }

    func consume(_ src: UnsafeRawBufferPointer, blocks wanted: Int, format: StreamFormat) {
        let n = Int(min(UInt64(max(wanted, 0)), remaining))
        guard n > 0 else { return }
        remaining -= UInt64(n)
        inner.consume(src, blocks: n, format: format)
    }
}

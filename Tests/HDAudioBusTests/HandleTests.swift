import Azalia
import Dispatch
import HDAController
import HDAudio
import HDAudioBus
import Synchronization
import Testing
import TestSupport

/// A type that pretends to offer AllocateDmaBuffer over any connection: only possible by
/// conforming a foreign type, and refused at run time for a BDL connection.
struct Impostor: DmaBufferRoutines {
    let connection: BusConnection
}

@Suite("Handles, versions, IRQL, closing")
struct HandleTests {
    @Test("FreeDmaEngine of a freed (stale) handle is STATUS_INVALID_HANDLE, even after the engine is reallocated")
    func staleHandle() throws {
        let system = try makeSystem(.ich6)
        let client = try system.openInterface(codecAddress: 0, version: .base)
        let a = try client.allocateRenderDmaEngine(format: F.small, stripe: false)
        try client.freeDmaEngine(a.handle)
        expectStatus(.invalidHandle) { try client.freeDmaEngine(a.handle) }
        let b = try client.allocateRenderDmaEngine(format: F.small, stripe: false)   // same engine, new generation
        #expect(b.handle != a.handle)
        expectStatus(.invalidHandle) { try client.freeDmaEngine(a.handle) }
        expectStatus(.invalidHandle) { try client.changeBandwidthAllocation(a.handle, format: F.cd) }
        expectStatus(.invalidHandle) { try client.setDmaEngineState(.stop, handles: [a.handle]) }
        expectStatus(.invalidHandle) { try client.allocateDmaBuffer(a.handle, requestedBufferSize: 4096) }
        expectStatus(.invalidHandle) { try client.getLinkPositionRegister(a.handle) }
        #expect((try system.bus.resources()).engines.count == 1)
        try client.freeDmaEngine(b.handle)
    }

    @Test("Forged handles (never issued) are STATUS_INVALID_HANDLE for every routine that takes one",
          arguments: [UInt(0), 1, 0x1_0000_0100, 0x1_0000_0105, UInt.max, 0xDEAD_BEEF])
    func forgedHandle(raw: UInt) throws {
        let system = try makeSystem(.bidirectional4SDO)
        let v2 = try system.openInterface(codecAddress: 0, version: .v2)
        let bdl = try system.openInterface(codecAddress: 0, version: .bdl)
        let real = try v2.allocateRenderDmaEngine(format: F.small, stripe: false)
        let forged = DmaEngineHandle(rawValue: raw)
        #expect(forged != real.handle)
        let event = NotificationEvent()
        expectStatus(.invalidHandle) { try v2.freeDmaEngine(forged) }
        expectStatus(.invalidHandle) { try v2.changeBandwidthAllocation(forged, format: F.cd) }
        expectStatus(.invalidHandle) { try v2.allocateDmaBuffer(forged, requestedBufferSize: 4096) }
        expectStatus(.invalidHandle) { try v2.freeDmaBuffer(forged) }
        expectStatus(.invalidHandle) { try v2.allocateDmaBufferWithNotification(forged, notificationCount: 1, requestedBufferSize: 4096) }
        expectStatus(.invalidHandle) { try v2.allocateDmaBufferWithNotification(forged, notificationCount: 7, requestedBufferSize: 0) }
        expectStatus(.invalidHandle) {
            try v2.freeDmaBufferWithNotification(forged, bufferMdl: MemoryDescriptorList(pages: [], byteCount: 0), bufferSize: 0)
        }
        expectStatus(.invalidHandle) { try v2.registerNotificationEvent(forged, event: event) }
        expectStatus(.invalidHandle) { try v2.unregisterNotificationEvent(forged, event: event) }
        expectStatus(.invalidHandle) { try v2.setDmaEngineState(.stop, handles: [forged]) }
        expectStatus(.invalidHandle) { try v2.getLinkPositionRegister(forged) }
        expectStatus(.invalidHandle) { try bdl.allocateContiguousDmaBuffer(forged, requestedBufferSize: 4096) }
        expectStatus(.invalidHandle) { try bdl.setupDmaEngineWithBdl(forged, bufferLength: 4096, lvi: 1, isr: { _, _ in }, context: 0) }
        expectStatus(.invalidHandle) { try bdl.freeContiguousDmaBuffer(forged) }
        // The real engine is untouched.
        #expect((try system.bus.resources()).engines.count == 1)
        try v2.freeDmaEngine(real.handle)
    }

    @Test("Another client's handle is STATUS_INVALID_HANDLE and never reaches its engine")
    func foreignHandle() throws {
        let system = try makeSystem(.ich6)
        let alice = try system.openInterface(codecAddress: 0, version: .base)
        let bob = try system.openInterface(codecAddress: 1, version: .base)
        let a = try alice.allocateRenderDmaEngine(format: F.stereo48, stripe: false)
        _ = try alice.allocateDmaBuffer(a.handle, requestedBufferSize: 4096)
        expectStatus(.invalidHandle) { try bob.freeDmaBuffer(a.handle) }
        expectStatus(.invalidHandle) { try bob.setDmaEngineState(.stop, handles: [a.handle]) }
        expectStatus(.invalidHandle) { try bob.freeDmaEngine(a.handle) }
        expectStatus(.invalidHandle) { try bob.changeBandwidthAllocation(a.handle, format: F.small) }
        expectStatus(.invalidHandle) { try bob.getLinkPositionRegister(a.handle) }
        // A handle rebuilt with Bob's client id and Alice's slot is no better.
        let b = try bob.allocateRenderDmaEngine(format: F.small, stripe: false)
        let mixed = DmaEngineHandle(rawValue: (b.handle.rawValue & ~0xFF) | (a.handle.rawValue & 0xFF))
        expectStatus(.invalidHandle) { try bob.freeDmaBuffer(mixed) }
        #expect((try system.bus.resources()).engines.first { $0.tag == 1 }?.hasBuffer == true)
        try alice.freeDmaBuffer(a.handle)
        try alice.freeDmaEngine(a.handle)
    }

    @Test("Closing an interface stops and frees everything its client held; its handles become invalid")
    func closeFreesEverything() throws {
        let system = try makeSystem(.bidirectional4SDO)
        let baseline = system.allocatedPages
        let other = try system.openInterface(codecAddress: 2, version: .base)
        let kept = try other.allocateRenderDmaEngine(format: F.small, stripe: false)
        let keptResources = (try system.bus.resources())
        let v2 = try system.openInterface(codecAddress: 0, version: .v2)
        let bdl = try system.openInterface(codecAddress: 1, version: .bdl)
        let r = try v2.allocateRenderDmaEngine(format: F.stereo48, stripe: true)
        let c = try v2.allocateCaptureDmaEngine(codecAddress: 1, format: F.stereo48)
        _ = try v2.allocateDmaBufferWithNotification(r.handle, notificationCount: 2, requestedBufferSize: 65536)
        _ = try v2.allocateDmaBuffer(c.handle, requestedBufferSize: 8192)
        try v2.registerNotificationEvent(r.handle, event: NotificationEvent())
        try v2.setDmaEngineState(.stop, handles: [r.handle, c.handle])
        try v2.setDmaEngineState(.run, handles: [r.handle, c.handle])
        let e = try bdl.allocateRenderDmaEngine(format: F.stereo48, stripe: false)
        _ = try bdl.allocateContiguousDmaBuffer(e.handle, requestedBufferSize: 8192)
        system.advance(frames: 100)
        #expect(system.allocatedPages > baseline)
        v2.close()
        bdl.close()
        bdl.close()   // idempotent
        #expect(system.allocatedPages == baseline)
        #expect((try system.bus.resources()) == keptResources)
        #expect((try system.bus.checkInvariants()).isEmpty)
        for i in 0..<ControllerProfile.bidirectional4SDO.engineCount {
            #expect(!system.platform.withController { $0.isMoving(descriptor: i) })
        }
        expectStatus(.invalidHandle) { try v2.freeDmaEngine(r.handle) }
        expectStatus(.invalidDeviceRequest) { try v2.allocateRenderDmaEngine(format: F.small, stripe: false) }
        try other.freeDmaEngine(kept.handle)
    }

    @Test("Dropping the last copy of an interface closes it")
    func dropCloses() throws {
        let system = try makeSystem(.ich6)
        do {
            let client = try system.openInterface(codecAddress: 0, version: .base)
            let a = try client.allocateRenderDmaEngine(format: F.stereo48, stripe: false)
            _ = try client.allocateDmaBuffer(a.handle, requestedBufferSize: 16384)
            #expect((try system.bus.resources()).engines.count == 1)
        }
        #expect((try system.bus.resources()).engines.isEmpty)
        #expect(system.allocatedPages == 2)
    }

    /// An event whose callback holds the only reference to an interface with an engine.
    static func eventHoldingInterface(_ system: AzaliaSystem) throws -> NotificationEvent {
        let captured = try system.openInterface(codecAddress: 1, version: .base)
        _ = try captured.allocateRenderDmaEngine(format: F.small, stripe: false)
        return NotificationEvent { _ in _ = captured.codecAddress }
    }

    @Test("An interface whose last reference the bus drops under its lock is closed afterwards, without deadlock")
    func releasedUnderLock() throws {
        let system = try makeSystem(.ich6)
        let owner = try system.openInterface(codecAddress: 0, version: .v2)
        let a = try owner.allocateRenderDmaEngine(format: F.stereo48, stripe: false)
        try owner.registerNotificationEvent(a.handle, event: try HandleTests.eventHoldingInterface(system))
        #expect((try system.bus.resources()).engines.count == 2)
        // Freeing the engine drops the event, its callback and the last copy of the interface.
        try owner.freeDmaEngine(a.handle)
        #expect((try system.bus.resources()).engines.isEmpty)
        #expect((try system.bus.checkInvariants()).isEmpty)
    }

    @Test("Each version offers exactly its routines (BDL lacks AllocateDmaBuffer; BASE lacks notifications)")
    func versionsOfferTheirRoutines() throws {
        let system = try makeSystem(.ich6)
        let base: any HDAudioBusInterface = try system.openInterface(codecAddress: 0, version: .base)
        let v2: any HDAudioBusInterface = try system.openInterface(codecAddress: 0, version: .v2)
        let bdl: any HDAudioBusInterface = try system.openInterface(codecAddress: 0, version: .bdl)
        #expect(base is any DmaBufferRoutines && !(base is any NotificationRoutines) && !(base is any BdlRoutines))
        #expect(v2 is any DmaBufferRoutines && v2 is any NotificationRoutines && !(v2 is any BdlRoutines))
        #expect(!(bdl is any DmaBufferRoutines) && !(bdl is any NotificationRoutines) && bdl is any BdlRoutines)
        #expect(base.connection.kind == .base && v2.connection.kind == .v2 && bdl.connection.kind == .bdl)
    }

    @Test("A routine reached through a foreign conformance on a version that lacks it is STATUS_INVALID_DEVICE_REQUEST")
    func foreignConformance() throws {
        let system = try makeSystem(.ich6)
        let bdl = try system.openInterface(codecAddress: 0, version: .bdl)
        let e = try bdl.allocateRenderDmaEngine(format: F.stereo48, stripe: false)
        let impostor = Impostor(connection: bdl.connection)
        expectStatus(.invalidDeviceRequest) { try impostor.allocateDmaBuffer(e.handle, requestedBufferSize: 4096) }
        expectStatus(.invalidDeviceRequest) { try impostor.freeDmaBuffer(e.handle) }
        #expect(system.allocatedPages == 2)
    }

    @Test("An interface for a codec address outside 0 to 14 is STATUS_INVALID_PARAMETER", arguments: [-1, 15, 99])
    func badInterfaceAddress(address: Int) throws {
        let system = try makeSystem(.ich6)
        expectStatus(.invalidParameter) { try system.openInterface(codecAddress: address, version: .base) }
    }

    @Test("PASSIVE_LEVEL routines return STATUS_UNSUCCESSFUL at DISPATCH_LEVEL and change nothing")
    func passiveRoutinesAtDispatch() throws {
        let system = try makeSystem(.ich6)
        let v2 = try system.openInterface(codecAddress: 0, version: .v2)
        let bdl = try system.openInterface(codecAddress: 0, version: .bdl)
        let a = try v2.allocateRenderDmaEngine(format: F.stereo48, stripe: false)
        let b = try bdl.allocateRenderDmaEngine(format: F.stereo48, stripe: false)
        let before = (try system.bus.resources())
        let pages = system.allocatedPages
        try system.atIRQL(.dispatch) {
            #expect(system.platform.currentIRQL == .dispatch)
            expectStatus(.unsuccessful) { try v2.allocateRenderDmaEngine(format: F.small, stripe: false) }
            expectStatus(.unsuccessful) { try v2.allocateCaptureDmaEngine(codecAddress: 0, format: F.small) }
            expectStatus(.unsuccessful) { try v2.changeBandwidthAllocation(a.handle, format: F.small) }
            expectStatus(.unsuccessful) { try v2.allocateDmaBuffer(a.handle, requestedBufferSize: 4096) }
            expectStatus(.unsuccessful) { try v2.freeDmaBuffer(a.handle) }
            expectStatus(.unsuccessful) { try v2.allocateDmaBufferWithNotification(a.handle, notificationCount: 1, requestedBufferSize: 4096) }
            expectStatus(.unsuccessful) { try v2.allocateDmaBufferWithNotification(a.handle, notificationCount: 7, requestedBufferSize: 4096) }
            expectStatus(.unsuccessful) {
                try v2.freeDmaBufferWithNotification(a.handle, bufferMdl: MemoryDescriptorList(pages: [], byteCount: 0), bufferSize: 0)
            }
            expectStatus(.unsuccessful) { try v2.registerNotificationEvent(a.handle, event: NotificationEvent()) }
            expectStatus(.unsuccessful) { try v2.unregisterNotificationEvent(a.handle, event: NotificationEvent()) }
            expectStatus(.unsuccessful) { try v2.getDeviceInformation(size: DeviceInformation.v2Size) }
            expectStatus(.unsuccessful) { try bdl.allocateContiguousDmaBuffer(b.handle, requestedBufferSize: 4096) }
            expectStatus(.unsuccessful) { try bdl.setupDmaEngineWithBdl(b.handle, bufferLength: 4096, lvi: 1, isr: { _, _ in }, context: 0) }
            expectStatus(.unsuccessful) { try bdl.freeContiguousDmaBuffer(b.handle) }
            // Routines allowed up to DISPATCH_LEVEL still work.
            _ = try v2.getWallClockRegister()
            _ = try v2.getLinkPositionRegister(a.handle)
            expectStatus(.invalidDeviceRequest) { try v2.setDmaEngineState(.stop, handles: [a.handle]) }
        }
        #expect(system.platform.currentIRQL == .passive)
        #expect((try system.bus.resources()) == before)
        #expect(system.allocatedPages == pages)
        try v2.freeDmaEngine(a.handle)   // FreeDmaEngine at DISPATCH is allowed too
    }

    @Test("DISPATCH_LEVEL routines return STATUS_UNSUCCESSFUL at DIRQL")
    func dispatchRoutinesAtDirql() throws {
        let system = try makeSystem(.ich6)
        let client = try system.openInterface(codecAddress: 0, version: .base)
        let a = try client.allocateRenderDmaEngine(format: F.stereo48, stripe: false)
        try system.atIRQL(.dirql) {
            expectStatus(.unsuccessful) { try client.freeDmaEngine(a.handle) }
            expectStatus(.unsuccessful) { try client.setDmaEngineState(.stop, handles: [a.handle]) }
            expectStatus(.unsuccessful) { try client.getWallClockRegister() }
            expectStatus(.unsuccessful) { try client.getLinkPositionRegister(a.handle) }
        }
        try system.atIRQL(.dispatch) { try client.freeDmaEngine(a.handle) }
        #expect((try system.bus.resources()).engines.isEmpty)
    }

    @Test("IRQL is per thread: another thread stays at PASSIVE_LEVEL while this one is at DISPATCH")
    func irqlPerThread() throws {
        let system = try makeSystem(.ich6)
        let client = try system.openInterface(codecAddress: 0, version: .base)
        let allocated = Atomic<Bool>(false)
        let platform = system.platform
        system.platform.withIRQL(.dispatch) {
            let done = DispatchSemaphore(value: 0)
            DispatchQueue.global().async {
                if platform.currentIRQL == .passive, (try? client.allocateRenderDmaEngine(format: F.small, stripe: false)) != nil {
                    allocated.store(true, ordering: .releasing)
                }
                done.signal()
            }
            done.wait()
        }
        let ok = allocated.load(ordering: .acquiring)
        #expect(ok)
    }


    @Test("The IRQL check comes before the handle check in every routine (UNSUCCESSFUL, not INVALID_HANDLE)")
    func irqlBeforeHandle() throws {
        let system = try makeSystem(.ich6)
        let v2 = try system.openInterface(codecAddress: 0, version: .v2)
        let bdl = try system.openInterface(codecAddress: 0, version: .bdl)
        let forged = DmaEngineHandle(rawValue: 0xDEAD_BEEF_0000_0001)
        let event = NotificationEvent()
        try system.atIRQL(.dispatch) {
            expectStatus(.unsuccessful) { try v2.allocateDmaBuffer(forged, requestedBufferSize: 4096) }
            expectStatus(.unsuccessful) { try v2.allocateDmaBufferWithNotification(forged, notificationCount: 3, requestedBufferSize: 0) }
            expectStatus(.unsuccessful) { try v2.freeDmaBuffer(forged) }
            expectStatus(.unsuccessful) { try v2.changeBandwidthAllocation(forged, format: F.invalid[0]) }
            expectStatus(.unsuccessful) { try v2.registerNotificationEvent(forged, event: event) }
            expectStatus(.unsuccessful) { try v2.unregisterNotificationEvent(forged, event: event) }
            expectStatus(.unsuccessful) { try bdl.allocateContiguousDmaBuffer(forged, requestedBufferSize: 0) }
            expectStatus(.unsuccessful) { try bdl.setupDmaEngineWithBdl(forged, bufferLength: 0, lvi: 0, isr: { _, _ in }, context: 0) }
            expectStatus(.unsuccessful) { try bdl.freeContiguousDmaBuffer(forged) }
            // Up to DISPATCH: the handle is checked.
            expectStatus(.invalidHandle) { try v2.freeDmaEngine(forged) }
            expectStatus(.invalidHandle) { try v2.setDmaEngineState(.stop, handles: [forged]) }
            expectStatus(.invalidHandle) { try v2.getLinkPositionRegister(forged) }
        }
        try system.atIRQL(.dirql) {
            expectStatus(.unsuccessful) { try v2.freeDmaEngine(forged) }
            expectStatus(.unsuccessful) { try v2.setDmaEngineState(.stop, handles: []) }
            expectStatus(.unsuccessful) { try v2.getLinkPositionRegister(forged) }
            expectStatus(.unsuccessful) { try v2.getWallClockRegister() }
        }
    }

    @Test("Handles near the limits (all ones, slot past the table, client 0, another client's bits) are INVALID_HANDLE", arguments: [
        UInt.max, 0, 0xFF, 0x1_0000_00FF, 0xFFFF_FFFF_0000_0100, 0x0000_0001_FFFF_FF00, 0x0000_0000_0000_0105,
    ])
    func forgedHandles(raw: UInt) throws {
        let system = try makeSystem(.ich6)
        let client = try system.openInterface(codecAddress: 0, version: .v2)
        _ = try client.allocateRenderDmaEngine(format: F.stereo48, stripe: false)
        let h = DmaEngineHandle(rawValue: raw)
        expectStatus(.invalidHandle) { try client.freeDmaEngine(h) }
        expectStatus(.invalidHandle) { try client.allocateDmaBuffer(h, requestedBufferSize: 4096) }
        expectStatus(.invalidHandle) { try client.setDmaEngineState(.reset, handles: [h]) }
        #expect((try system.bus.checkInvariants()).isEmpty)
    }


    @Test("Closing an interface with engines running stops them, frees every page, engine, tag and bit of bandwidth, and signals nothing more")
    func closeWhileRunning() throws {
        let system = try makeSystem(.bidirectional4SDO)
        let baseline = system.allocatedPages
        let event = NotificationEvent()
        let log = IsrLog()
        do {
            let v2 = try system.openInterface(codecAddress: 0, version: .v2)
            let bdl = try system.openInterface(codecAddress: 1, version: .bdl)
            let r = try v2.allocateRenderDmaEngine(format: F.stereo48, stripe: true)
            let cap = try v2.allocateCaptureDmaEngine(codecAddress: 1, format: F.cd)
            _ = try v2.allocateDmaBufferWithNotification(r.handle, notificationCount: 2, requestedBufferSize: 4096)
            _ = try v2.allocateDmaBufferWithNotification(cap.handle, notificationCount: 1, requestedBufferSize: 8192)
            try v2.registerNotificationEvent(r.handle, event: event)
            try v2.registerNotificationEvent(cap.handle, event: event)
            let b = try bdl.allocateRenderDmaEngine(format: F.stereo48, stripe: false)
            let c = try bdl.allocateContiguousDmaBuffer(b.handle, requestedBufferSize: 4096)
            writeRawBdl(system.platform, at: c.bdlBuffer.address, [(c.dataBuffer.address, 256, true), (c.dataBuffer.address + 256, 256, true)])
            _ = try bdl.setupDmaEngineWithBdl(b.handle, bufferLength: 512, lvi: 1,
                                              isr: { m, ctx in log.calls.withLock { $0.append((m, ctx, .dirql)) } }, context: 1)
            try v2.setDmaEngineState(.stop, handles: [r.handle, cap.handle]); try v2.setDmaEngineState(.run, handles: [r.handle, cap.handle])
            try bdl.setDmaEngineState(.stop, handles: [b.handle]); try bdl.setDmaEngineState(.run, handles: [b.handle])
            system.advance(frames: 600)
            #expect(event.signalCount > 0 && !log.masks.isEmpty)
            v2.close()
            bdl.close()
        }
        let signals = event.signalCount, isrCalls = log.masks.count
        let moved = system.platform.withController { $0.totalBytesMoved }
        system.advance(frames: 5000)
        #expect(event.signalCount == signals && log.masks.count == isrCalls)
        #expect(system.platform.withController { $0.totalBytesMoved } == moved)
        #expect(system.allocatedPages == baseline)
        let res = (try system.bus.resources())
        #expect(res.engines.isEmpty && res.sdo.allSatisfy { $0.used == 0 } && res.sdi.allSatisfy { $0.used == 0 })
        #expect(res.tags.values.allSatisfy { $0.isEmpty })
        #expect(system.platform.read32(HDARegister.intctl) & InterruptBits.streamMask == 0)
        #expect((try system.bus.checkInvariants()).isEmpty)
    }

    @Test("Closing an interface from inside its own BDL ISR (DIRQL) neither crashes nor hangs, and the close takes effect")
    func closeFromInsideIsr() throws {
        let system = try makeSystem(.ich6)
        let baseline = system.allocatedPages
        let client = try system.openInterface(codecAddress: 0, version: .bdl)
        let holder = PThreadMutex<HDAudioBDLInterface?>(client)
        let calls = PThreadMutex(0)
        var handles: [DmaEngineHandle] = []
        for _ in 0..<2 {   // two engines whose IOCs fall in the same frame
            let a = try client.allocateRenderDmaEngine(format: F.stereo48, stripe: false)
            let c = try client.allocateContiguousDmaBuffer(a.handle, requestedBufferSize: 4096)
            writeRawBdl(system.platform, at: c.bdlBuffer.address, [(c.dataBuffer.address, 256, true), (c.dataBuffer.address + 256, 256, true)])
            _ = try client.setupDmaEngineWithBdl(a.handle, bufferLength: 512, lvi: 1, isr: { _, _ in
                calls.withLock { $0 += 1 }
                holder.withLock { h in let i = h; h = nil; return i }?.close()
            }, context: 0)
            handles.append(a.handle)
        }
        try client.setDmaEngineState(.stop, handles: handles)
        try client.setDmaEngineState(.run, handles: handles)
        system.advance(frames: 200)
        #expect(calls.withLock { $0 } >= 1)
        // Any later bus call at PASSIVE_LEVEL may complete a deferred close.
        let other = try system.openInterface(codecAddress: 1, version: .base)
        try other.freeDmaEngine(other.allocateRenderDmaEngine(format: F.small, stripe: false).handle)
        #expect((try system.bus.resources()).engines.isEmpty)
        #expect(system.allocatedPages == baseline)
    }

    @Test("Routines of a closed interface are STATUS_INVALID_DEVICE_REQUEST: capture, verbs, event callbacks, resources")
    func closedInterface() throws {
        let system = try makeSystem(.ich6)
        let client = try system.openInterface(codecAddress: 0, version: .v2)
        client.close()
        expectStatus(.invalidDeviceRequest) { try client.allocateCaptureDmaEngine(codecAddress: 0, format: F.stereo48) }
        expectStatus(.invalidDeviceRequest) { try client.transferCodecVerbs([CodecTransfer(verb: 0x000F_0000)]) }
        expectStatus(.invalidDeviceRequest) { try client.registerEventCallback({ _, _ in }, context: 0) }
        expectStatus(.invalidDeviceRequest) { try client.getResourceInformation() }
        #expect((try system.bus.checkInvariants()).isEmpty)
    }
}

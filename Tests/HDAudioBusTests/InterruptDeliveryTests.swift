import Azalia
import HDAController
import HDAudio
import HDAudioBus
import Synchronization
import Testing
import TestSupport

@Suite("Interrupt delivery and deferred close on the virtual platform")
struct InterruptDeliveryTests {
    @Test("A stall at DIRQL never runs the ISR (the line is masked); the pending interrupt is delivered before time next moves")
    func stallAtDirqlMasksInterrupt() throws {
        let system = try makeSystem(.ich6)
        let client = try system.openInterface(codecAddress: 0, version: .bdl)
        let (a, _, log) = try BdlInterfaceTests.loggedEngine(system, client, context: 3)
        try client.setDmaEngineState(.stop, handles: [a.handle])
        try client.setDmaEngineState(.run, handles: [a.handle])
        // The IOC ends the 4096-byte buffer: 1024 frames; stall 1100 frames at DIRQL.
        system.platform.withIRQL(.dirql) { system.platform.stall(microseconds: 1100 * 1_000_000 / 48_000) }
        #expect(log.masks.isEmpty)
        #expect(system.platform.withController { $0.interruptAsserted })
        let frame = system.frame
        system.advance(frames: 0)
        #expect(log.masks == [UInt32(StreamStatus.bufferCompletion.rawValue)])
        #expect(system.frame == frame)
        #expect(!system.platform.withController { $0.interruptAsserted })
    }

    @Test("An interrupt raised while the ISR itself stalls is delivered right after the ISR returns, not merged")
    func interruptDuringIsrDeliveredAfter() throws {
        let system = try makeSystem(.ich6)
        let client = try system.openInterface(codecAddress: 0, version: .bdl)
        let platform = system.platform
        let log = PThreadMutex<[(context: UInt, frame: UInt64)]>([])
        var handles: [DmaEngineHandle] = []
        for (context, first) in [(UInt(1), 256), (UInt(2), 512)] {
            let a = try client.allocateRenderDmaEngine(format: F.stereo48, stripe: false)
            let b = try client.allocateContiguousDmaBuffer(a.handle, requestedBufferSize: 4096)
            BdlInterfaceTests.writeBdl(system, b, [(0, first, true), (first, 4096 - first, false)])
            _ = try client.setupDmaEngineWithBdl(a.handle, bufferLength: 4096, lvi: 1, isr: { _, ctx in
                log.withLock { $0.append((ctx, platform.frame)) }
                // Engine 1's ISR busy-waits 100 frames: engine 2's IOC (64 frames later) comes meanwhile.
                if ctx == 1 { platform.stall(microseconds: 100 * 1_000_000 / 48_000) }
            }, context: context)
            handles.append(a.handle)
        }
        try client.setDmaEngineState(.stop, handles: handles)
        try client.setDmaEngineState(.run, handles: handles)
        let start = system.frame
        system.advance(frames: 300)
        let calls = log.withLock { $0 }
        #expect(calls.map(\.context) == [1, 2])
        if calls.count == 2 {
            #expect(calls[0].frame - start == 64)
            #expect(calls[1].frame - calls[0].frame == 99 || calls[1].frame - calls[0].frame == 100,
                    "delivered when the ISR returned")
        }
        // The ISR's stall is link time too: 300 frames of advance plus its 100.
        #expect(system.frame - start == 400)
    }

    @Test("Closing an interface at DISPATCH_LEVEL is deferred to the next PASSIVE_LEVEL bus routine, then frees everything")
    func closeAtDispatchDeferred() throws {
        let system = try makeSystem(.ich6)
        let baseline = system.allocatedPages
        let client = try system.openInterface(codecAddress: 0, version: .v2)
        let a = try client.allocateRenderDmaEngine(format: F.stereo48, stripe: false)
        _ = try client.allocateDmaBufferWithNotification(a.handle, notificationCount: 1, requestedBufferSize: 4096)
        try client.setDmaEngineState(.stop, handles: [a.handle])
        try client.setDmaEngineState(.run, handles: [a.handle])
        let other = try system.openInterface(codecAddress: 1, version: .base)
        let forged = DmaEngineHandle(rawValue: 0xDEAD_BEEF_0000_0001)
        let index = try #require(system.engineIndex(tag: 1, .render))
        func running() -> Bool { system.platform.withController { $0.isMoving(descriptor: index) } }
        try system.atIRQL(.dispatch) {
            client.close()
            #expect(running(), "no stall-driven close at DISPATCH_LEVEL")
            expectStatus(.unsuccessful) { try system.bus.resources() }
            // A bus routine at DISPATCH_LEVEL (taking the bus lock) does not run it either.
            expectStatus(.invalidHandle) { try other.freeDmaEngine(forged) }
            #expect(running())
            // The closing client's handles and routines are already refused at DISPATCH_LEVEL.
            expectStatus(.invalidHandle) { try client.setDmaEngineState(.stop, handles: [a.handle]) }
            expectStatus(.invalidHandle) { try client.getLinkPositionRegister(a.handle) }
            expectStatus(.invalidDeviceRequest) { try client.transferCodecVerbs([CodecTransfer(verb: 0xF0000)], callback: { _, _ in }, context: 0) }
        }
        // The next PASSIVE-level routine, even the closed client's own, closes it first.
        expectStatus(.invalidHandle) { try client.setDmaEngineState(.stop, handles: [a.handle]) }
        #expect((try system.bus.resources()).engines.isEmpty)
        #expect(system.allocatedPages == baseline)
        #expect((try system.bus.checkInvariants()).isEmpty)
    }

    @Test("From a BDL ISR that runs during a bus stall, openInterface, codecMask, resources, checkInvariants and rescanCodecs refuse with STATUS_UNSUCCESSFUL instead of trapping")
    func entryPointsRefuseInIsr() throws {
        let system = try makeSystem(.ich6)
        let client = try system.openInterface(codecAddress: 0, version: .bdl)
        let bus = system.bus
        let statuses = PThreadMutex<[String: NTStatus?]>([:])
        let a = try client.allocateRenderDmaEngine(format: F.stereo48, stripe: false)
        let b = try client.allocateContiguousDmaBuffer(a.handle, requestedBufferSize: 4096)
        BdlInterfaceTests.writeBdl(system, b, [(0, 256, true), (256, 3840, true)])
        _ = try client.setupDmaEngineWithBdl(a.handle, bufferLength: 4096, lvi: 1, isr: { _, _ in
            func status(_ body: () throws(NTStatus) -> Void) -> NTStatus? {
                do { try body(); return nil } catch { return error }
            }
            let found: [String: NTStatus?] = [
                "openInterface": status { () throws(NTStatus) in _ = try bus.openInterface(codecAddress: 1, version: .v2) },
                "codecMask": status { () throws(NTStatus) in _ = try bus.codecMask },
                "resources": status { () throws(NTStatus) in _ = try bus.resources() },
                "checkInvariants": status { () throws(NTStatus) in _ = try bus.checkInvariants() },
                "rescanCodecs": status { () throws(NTStatus) in _ = try bus.rescanCodecs() },
            ]
            statuses.withLock { $0.merge(found) { a, _ in a } }
        }, context: 0)
        try client.setDmaEngineState(.stop, handles: [a.handle])
        try client.setDmaEngineState(.run, handles: [a.handle])
        // Engine allocations stall in their SRST handshakes with the bus lock held: the first IOC
        // (64 frames in) comes during one of them.
        var handles: [DmaEngineHandle] = []
        for _ in 0..<200 where statuses.withLock({ $0.isEmpty }) {
            let other = try client.allocateRenderDmaEngine(format: F.stereo48, stripe: false)
            try client.freeDmaEngine(other.handle)
            handles.append(other.handle)
        }
        let seen = statuses.withLock { $0 }
        #expect(seen.count == 5)
        for (name, status) in seen { #expect(status == .unsuccessful, "\(name)") }
        let after = try bus.resources(), problems = try bus.checkInvariants()
        #expect(after.engines.count == 1)
        #expect(problems.isEmpty)
    }
}

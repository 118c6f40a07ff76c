import Azalia
import HDAController
import HDAudio
import HDAudioBus
import Testing
import TestSupport
import Synchronization

@Suite("SetDmaEngineState, wall clock, position, device information")
struct StateTests {
    /// A render engine of 48 kHz/16/2 (one 4-byte block per frame) with a buffer.
    static func engine(_ client: HDAudioV2Interface, size: Int = 4096) throws -> DmaEngineHandle {
        let a = try client.allocateRenderDmaEngine(format: F.stereo48, stripe: false)
        _ = try client.allocateDmaBuffer(a.handle, requestedBufferSize: size)
        return a.handle
    }

    /// An ich6 system with a V2 client holding one render engine with a buffer, moved to
    /// Stop; returns the engine's handle and its descriptor index.
    static func stoppedEngine() throws -> (AzaliaSystem, HDAudioV2Interface, DmaEngineHandle, Int) {
        let system = try makeSystem(.ich6)
        let client = try system.openInterface(codecAddress: 0, version: .v2)
        let h = try engine(client)
        let index = try #require(system.engineIndex(tag: 1, .render))
        try client.setDmaEngineState(.stop, handles: [h])
        return (system, client, h, index)
    }

    @Test("NumberOfHandles = 0 is STATUS_INVALID_PARAMETER")
    func noHandles() throws {
        let system = try makeSystem(.ich6)
        let client = try system.openInterface(codecAddress: 0, version: .v2)
        expectStatus(.invalidParameter) { try client.setDmaEngineState(.run, handles: []) }
    }

    @Test("Reset to Run and Run to Reset are STATUS_INVALID_DEVICE_REQUEST")
    func forbiddenTransitions() throws {
        let system = try makeSystem(.ich6)
        let client = try system.openInterface(codecAddress: 0, version: .v2)
        let h = try StateTests.engine(client)
        expectStatus(.invalidDeviceRequest) { try client.setDmaEngineState(.run, handles: [h]) }
        try client.setDmaEngineState(.pause, handles: [h])
        try client.setDmaEngineState(.run, handles: [h])
        expectStatus(.invalidDeviceRequest) { try client.setDmaEngineState(.reset, handles: [h]) }
        #expect(system.control(try #require(system.engineIndex(tag: 1, .render))).run)
        try client.setDmaEngineState(.stop, handles: [h])
        try client.setDmaEngineState(.reset, handles: [h])
    }

    @Test("Any state but Reset needs a buffer: STATUS_INVALID_DEVICE_REQUEST without one")
    func stateNeedsBuffer() throws {
        let system = try makeSystem(.ich6)
        let client = try system.openInterface(codecAddress: 0, version: .v2)
        let a = try client.allocateRenderDmaEngine(format: F.stereo48, stripe: false)
        expectStatus(.invalidDeviceRequest) { try client.setDmaEngineState(.stop, handles: [a.handle]) }
        try client.setDmaEngineState(.reset, handles: [a.handle])   // Reset to Reset is fine
        let bdl = try system.openInterface(codecAddress: 0, version: .bdl)
        let b = try bdl.allocateRenderDmaEngine(format: F.stereo48, stripe: false)
        _ = try bdl.allocateContiguousDmaBuffer(b.handle, requestedBufferSize: 4096)
        // A contiguous buffer that SetupDmaEngineWithBdl has not programmed is no buffer yet.
        expectStatus(.invalidDeviceRequest) { try bdl.setDmaEngineState(.stop, handles: [b.handle]) }
    }

    @Test("A bad handle among good ones changes nothing (every handle checked before any engine is touched)")
    func badHandleChangesNothing() throws {
        let system = try makeSystem(.ich6)
        let client = try system.openInterface(codecAddress: 0, version: .v2)
        let h1 = try StateTests.engine(client)
        let h2 = try StateTests.engine(client)
        let noBuffer = try client.allocateRenderDmaEngine(format: F.stereo48, stripe: false).handle
        try client.setDmaEngineState(.stop, handles: [h1, h2])
        let before = (try system.bus.resources())
        let i1 = try #require(system.engineIndex(tag: 1, .render)), i2 = try #require(system.engineIndex(tag: 2, .render))
        expectStatus(.invalidHandle) { try client.setDmaEngineState(.run, handles: [h1, DmaEngineHandle(rawValue: 42), h2]) }
        expectStatus(.invalidDeviceRequest) { try client.setDmaEngineState(.run, handles: [h1, h2, noBuffer]) }
        system.advance(frames: 200)
        #expect((try system.bus.resources()) == before)
        #expect(!system.control(i1).run && !system.control(i2).run)
        #expect(system.sd32(i1, HDARegister.SD.lpib) == 0 && system.sd32(i2, HDARegister.SD.lpib) == 0)
        // Running ones are not stopped by a bad handle either.
        try client.setDmaEngineState(.run, handles: [h1, h2])
        expectStatus(.invalidDeviceRequest) { try client.setDmaEngineState(.reset, handles: [h2, h1]) }
        expectStatus(.invalidHandle) { try client.setDmaEngineState(.stop, handles: [h1, DmaEngineHandle(rawValue: 7)]) }
        #expect(system.control(i1).run && system.control(i2).run)
    }

    @Test("SSYNC: several engines started by one call start on the same frame and move in step",
          arguments: [ControllerProfile.ich6, .skylakePCH, .bidirectional4SDO])
    func synchronisedStart(profile: ControllerProfile) throws {
        let system = try makeSystem(profile)
        let client = try system.openInterface(codecAddress: 0, version: .v2)
        let render = try StateTests.engine(client, size: 65536)
        let render2 = try StateTests.engine(client, size: 65536)
        let c = try client.allocateCaptureDmaEngine(codecAddress: 1, format: F.stereo48)
        _ = try client.allocateDmaBuffer(c.handle, requestedBufferSize: 65536)
        let handles = [render, render2, c.handle]
        let positions = try handles.map { try client.getLinkPositionRegister($0) }
        try client.setDmaEngineState(.stop, handles: handles)
        // Let time pass between the stop and the start: nothing moves.
        system.advance(frames: 37)
        #expect(positions.allSatisfy { $0.value == 0 })
        try client.setDmaEngineState(.run, handles: handles)
        let ssync = system.platform.read32(profile.ssyncOffset)
        #expect(ssync == 0)
        let indices = (try system.bus.resources()).engines.map(\.index)
        #expect(indices.allSatisfy { i in system.platform.withController { $0.isMoving(descriptor: i) } })
        system.advance(frames: 1000)
        let lpibs = indices.map { system.sd32($0, HDARegister.SD.lpib) }
        // One 4-byte block per frame: 1000 frames move 4000 bytes on every engine.
        #expect(lpibs == Array(repeating: 4000, count: 3))
        #expect(positions.map(\.value) == lpibs)
        try client.setDmaEngineState(.stop, handles: handles)
        system.advance(frames: 100)
        #expect(indices.map { system.sd32($0, HDARegister.SD.lpib) } == lpibs)
        #expect(indices.allSatisfy { !system.control($0).run })
    }

    @Test("Reset performs the SRST handshake and keeps the buffer programmed; the engine runs again")
    func resetKeepsBuffer() throws {
        let system = try makeSystem(.ich6)
        let client = try system.openInterface(codecAddress: 0, version: .v2)
        let a = try client.allocateRenderDmaEngine(format: F.stereo48, stripe: false)
        let b = try client.allocateDmaBufferWithNotification(a.handle, notificationCount: 2, requestedBufferSize: 8192)
        let index = try #require(system.engineIndex(tag: 1, .render))
        let programmed = try ProgrammedBDL(platform: system.platform, index: index)
        try client.setDmaEngineState(.stop, handles: [a.handle])
        try client.setDmaEngineState(.run, handles: [a.handle])
        system.advance(frames: 300)
        try client.setDmaEngineState(.stop, handles: [a.handle])
        #expect(system.sd32(index, HDARegister.SD.lpib) == 1200)
        try client.setDmaEngineState(.reset, handles: [a.handle])
        // SRST cleared LPIB; the buffer registers are programmed again.
        #expect(system.sd32(index, HDARegister.SD.lpib) == 0)
        let again = try ProgrammedBDL(platform: system.platform, index: index)
        #expect(again.entries == programmed.entries && again.cbl == programmed.cbl && again.bdlAddress == programmed.bdlAddress)
        #expect(system.control(index).streamTag == 1)
        _ = again.check(mdl: b.mdl, size: b.allocatedBufferSize)
        try client.setDmaEngineState(.stop, handles: [a.handle])
        try client.setDmaEngineState(.run, handles: [a.handle])
        system.advance(frames: 10)
        #expect(system.sd32(index, HDARegister.SD.lpib) == 40)
    }

    @Test("SetDmaEngineState(Reset) whose SRST handshake fails is STATUS_DEVICE_NOT_READY")
    func resetHandshakeFails() throws {
        let (system, client, h, index) = try StateTests.stoppedEngine()
        system.setFaults(FaultInjection(srstNeverLatches: [index]))
        expectStatus(.deviceNotReady) { try client.setDmaEngineState(.reset, handles: [h]) }
        #expect(!system.control(index).run)
        system.setFaults(FaultInjection())
        try client.setDmaEngineState(.reset, handles: [h])
        try client.freeDmaBuffer(h)
        try client.freeDmaEngine(h)
    }

    @Test("GetWallClockRegister is a live view of WALCLK: 500 per link frame")
    func getWallClockRegister() throws {
        let system = try makeSystem(.ich6)
        let client = try system.openInterface(codecAddress: 0, version: .base)
        let clock = try client.getWallClockRegister()
        let t0 = clock.value
        system.advance(frames: 480)
        #expect(clock.value &- t0 == 480 * 500)
        #expect(clock.value == system.platform.read32(HDARegister.walclk))
    }

    @Test("GetLinkPositionRegister is a live view of the engine's position from the position buffer")
    func linkPosition() throws {
        let system = try makeSystem(.skylakePCH)
        let client = try system.openInterface(codecAddress: 0, version: .v2)
        let h = try StateTests.engine(client, size: 4096)
        let position = try client.getLinkPositionRegister(h)
        try client.setDmaEngineState(.stop, handles: [h])
        try client.setDmaEngineState(.run, handles: [h])
        for frames: UInt64 in [1, 10, 100, 1000] {
            system.advance(frames: frames)
            let index = try #require(system.engineIndex(tag: 1, .render))
            #expect(position.value == system.sd32(index, HDARegister.SD.lpib))
        }
        // 1111 frames x 4 bytes wrap at 4096 bytes.
        #expect(position.value == UInt32(1111 * 4 % 4096))
    }

    @Test("GetDeviceInformation fills the BASE or the V2 form by Size", arguments: ControllerProfile.all)
    func deviceInformation(profile: ControllerProfile) throws {
        let system = try makeSystem(profile, codecs: [0, 3])
        let client = try system.openInterface(codecAddress: 0, version: .bdl)
        let base = try client.getDeviceInformation(size: DeviceInformation.baseSize)
        #expect(base.size == DeviceInformation.baseSize)
        #expect(base.deviceVersion == UInt16(profile.vmaj) << 8 | UInt16(profile.vmin))
        #expect(base.codecsDetected == 2)
        #expect(base.isStripingSupported == (profile.sdoLines >= 2))
        #expect(base.ctrlVendorId == nil && base.ctrlDeviceId == nil && base.ctrlRevision == nil)
        let v2 = try client.getDeviceInformation(size: DeviceInformation.v2Size)
        #expect(v2.size == DeviceInformation.v2Size)
        #expect(v2.ctrlVendorId == profile.pciVendor && v2.ctrlDeviceId == profile.pciDevice && v2.ctrlRevision == profile.revision)
        #expect(v2.deviceVersion == base.deviceVersion && v2.codecsDetected == 2)
        expectStatus(.invalidParameter) { try client.getDeviceInformation(size: 4) }
        expectStatus(.invalidParameter) { try client.getDeviceInformation(size: 0) }
    }

    @Test("SetDmaEngineState validates every handle before any transition: INVALID_HANDLE wins over INVALID_DEVICE_REQUEST, and nothing changes")
    func handlesBeforeTransitions() throws {
        let system = try makeSystem(.ich6)
        let client = try system.openInterface(codecAddress: 0, version: .base)
        let ready = try client.allocateRenderDmaEngine(format: F.stereo48, stripe: false)
        _ = try client.allocateDmaBuffer(ready.handle, requestedBufferSize: 4096)
        let bare = try client.allocateRenderDmaEngine(format: F.stereo48, stripe: false)   // no buffer
        let other = try system.openInterface(codecAddress: 1, version: .base)
        let foreign = try other.allocateRenderDmaEngine(format: F.stereo48, stripe: false)
        _ = try other.allocateDmaBuffer(foreign.handle, requestedBufferSize: 4096)
        expectStatus(.invalidHandle) { try client.setDmaEngineState(.stop, handles: [ready.handle, bare.handle, foreign.handle]) }
        expectStatus(.invalidDeviceRequest) { try client.setDmaEngineState(.stop, handles: [ready.handle, bare.handle]) }
        expectStatus(.invalidDeviceRequest) { try client.setDmaEngineState(.run, handles: [ready.handle]) }   // Reset -> Run
        expectStatus(.invalidHandle) { try client.setDmaEngineState(.stop, handles: [ready.handle, DmaEngineHandle(rawValue: .max)]) }
        #expect((try system.bus.resources()).engines.allSatisfy { $0.state == .reset })
        system.advance(frames: 100)
        #expect((0..<8).allSatisfy { i in !system.platform.withController { $0.isMoving(descriptor: i) } })
        // A good list of handles repeated is fine, and Run -> Reset is refused without effect.
        try client.setDmaEngineState(.stop, handles: [ready.handle, ready.handle]); try client.setDmaEngineState(.run, handles: [ready.handle, ready.handle])
        expectStatus(.invalidDeviceRequest) { try client.setDmaEngineState(.reset, handles: [ready.handle]) }
        #expect((try system.bus.resources()).engines.first { $0.tag == 1 }?.state == .run)
        try client.setDmaEngineState(.pause, handles: [ready.handle])
        try client.setDmaEngineState(.reset, handles: [ready.handle])
        expectStatus(.invalidDeviceRequest) { try client.setDmaEngineState(.run, handles: [ready.handle, ready.handle]) }
    }

    @Test("After a Reset that timed out, Run either fails or really runs the engine (never a silent SUCCESS)")
    func runAfterFailedReset() throws {
        let system = try makeSystem(.ich6)
        let v2 = try system.openInterface(codecAddress: 0, version: .v2)
        let a = try v2.allocateRenderDmaEngine(format: F.stereo48, stripe: false)
        _ = try v2.allocateDmaBufferWithNotification(a.handle, notificationCount: 1, requestedBufferSize: 4096)
        let index = try #require(system.engineIndex(tag: 1, .render))
        try v2.setDmaEngineState(.stop, handles: [a.handle]); try v2.setDmaEngineState(.run, handles: [a.handle])
        system.advance(frames: 10)
        try v2.setDmaEngineState(.stop, handles: [a.handle])
        system.setFaults(FaultInjection(srstNeverLatches: [index]))
        expectStatus(.deviceNotReady) { try v2.setDmaEngineState(.reset, handles: [a.handle]) }
        system.setFaults(FaultInjection())
        var ran = false
        do {
            try v2.setDmaEngineState(.run, handles: [a.handle])
            ran = true
        } catch {}
        if ran {
            system.advance(frames: 16)
            #expect(system.platform.withController { $0.isMoving(descriptor: index) }, "Run returned SUCCESS but the engine does not move")
        }
    }


    @Test("GetLinkPositionRegister and GetWallClockRegister are live views: the engine's LPIB and WALCLK, frame after frame")
    func liveViews() throws {
        let system = try makeSystem(.skylakePCH)
        let client = try system.openInterface(codecAddress: 0, version: .base)
        let clock = try client.getWallClockRegister()
        var views: [(Int, RegisterView)] = []
        var handles: [DmaEngineHandle] = []
        for (i, f) in [F.stereo48, F.cd, StreamFormat(rate: 32000, bits: 24, channels: 3)].enumerated() {
            let a = try client.allocateRenderDmaEngine(format: f, stripe: false)
            _ = try client.allocateDmaBuffer(a.handle, requestedBufferSize: 1000 + 999 * i)
            let index = try #require(system.engineIndex(tag: UInt8(i + 1), .render))
            views.append((index, try client.getLinkPositionRegister(a.handle)))
            handles.append(a.handle)
        }
        try client.setDmaEngineState(.stop, handles: handles)
        try client.setDmaEngineState(.run, handles: handles)
        for step in [1, 7, 160, 333] {
            system.advance(frames: UInt64(step))
            #expect(clock.value == system.platform.read32(HDARegister.walclk))
            for (index, view) in views {
                #expect(view.value == system.sd32(index, HDARegister.SD.lpib), "descriptor \(index) after +\(step) frames")
            }
        }
        let w0 = clock.value
        system.advance(frames: 3)
        #expect(clock.value &- w0 == 1500)
        try client.setDmaEngineState(.stop, handles: handles)
        try client.setDmaEngineState(.reset, handles: handles)
        system.advance(frames: 1)
        #expect(views.allSatisfy { $0.1.value == 0 })
    }

    @Test("Stop with one bad handle among running engines changes nothing: they keep running")
    func stopAllOrNothing() throws {
        let system = try makeSystem(.ich6)
        let client = try system.openInterface(codecAddress: 0, version: .base)
        var handles: [DmaEngineHandle] = []
        for _ in 0..<2 {
            let a = try client.allocateRenderDmaEngine(format: F.stereo48, stripe: false)
            _ = try client.allocateDmaBuffer(a.handle, requestedBufferSize: 4096)
            handles.append(a.handle)
        }
        let idle = try client.allocateRenderDmaEngine(format: F.stereo48, stripe: false)
        _ = try client.allocateDmaBuffer(idle.handle, requestedBufferSize: 4096)
        try client.setDmaEngineState(.stop, handles: handles)
        try client.setDmaEngineState(.run, handles: handles)
        expectStatus(.invalidHandle) { try client.setDmaEngineState(.stop, handles: handles + [DmaEngineHandle(rawValue: 0x1234)]) }
        expectStatus(.invalidDeviceRequest) { try client.setDmaEngineState(.reset, handles: [idle.handle] + handles) }   // Run -> Reset among them
        system.advance(frames: 10)
        let states = (try system.bus.resources()).engines.map(\.state)
        #expect(states.filter { $0 == .run }.count == 2 && states.filter { $0 == .reset }.count == 1)
        #expect((4..<6).allSatisfy { i in system.platform.withController { $0.isMoving(descriptor: i) } })
        #expect(system.sd32(4, HDARegister.SD.lpib) == system.sd32(5, HDARegister.SD.lpib), "started on the same frame")
    }

    @Test("GetDeviceInformation fills the form its Size names: BASE from 10 to 13 bytes, V2 from 14; smaller is INVALID_PARAMETER")
    func deviceInformationBySize() throws {
        let system = try makeSystem(.bidirectional4SDO, codecs: [0, 2, 5])
        let client = try system.openInterface(codecAddress: 0, version: .bdl)
        for size in [10, 13] {
            let info = try client.getDeviceInformation(size: size)
            #expect(info.size == 10 && info.ctrlVendorId == nil && info.ctrlDeviceId == nil && info.ctrlRevision == nil)
        }
        let v2 = try client.getDeviceInformation(size: 1000)
        #expect(v2.size == 14 && v2.ctrlVendorId == 0x1B36 && v2.ctrlDeviceId == 0xA2A1 && v2.ctrlRevision == 0x01)
        #expect(v2.deviceVersion == 0x0100 && v2.codecsDetected == 3 && v2.isStripingSupported)
        for size in [0, 9, -1] { expectStatus(.invalidParameter) { try client.getDeviceInformation(size: size) } }
        let ich6 = try makeSystem(.ich6)
        #expect(try ich6.openInterface(codecAddress: 0, version: .base).getDeviceInformation(size: 10).isStripingSupported == false)
    }

    @Test("SetDmaEngineState(Run) whose FIFO never becomes ready is STATUS_DEVICE_NOT_READY; the engine is left stopped")
    func runHandshakeFails() throws {
        let (system, client, h, index) = try StateTests.stoppedEngine()
        system.setFaults(FaultInjection(fifoNeverReady: [index]))
        expectStatus(.deviceNotReady) { try client.setDmaEngineState(.run, handles: [h]) }
        #expect(!system.control(index).run)
        #expect(!system.platform.withController { $0.isMoving(descriptor: index) })
        let ssync = system.platform.read32(system.profile.ssyncOffset)
        #expect(ssync & (1 << UInt32(index)) == 0, "SSYNC released after the failed start")
        // The engine is in Stop, not Run: Reset is allowed, Run again works once the fault is gone.
        system.setFaults(FaultInjection())
        try client.setDmaEngineState(.run, handles: [h])
        system.advance(frames: 10)
        #expect(system.platform.withController { $0.isMoving(descriptor: index) })
        try client.setDmaEngineState(.stop, handles: [h])
        try client.setDmaEngineState(.reset, handles: [h])
        try client.freeDmaBuffer(h)
        try client.freeDmaEngine(h)
        #expect((try system.bus.checkInvariants()).isEmpty)
    }

    @Test("SetDmaEngineState(Stop) whose RUN never reads back 0 is STATUS_DEVICE_NOT_READY")
    func stopHandshakeFails() throws {
        let (system, client, h, index) = try StateTests.stoppedEngine()
        try client.setDmaEngineState(.run, handles: [h])
        system.setFaults(FaultInjection(runNeverClears: [index]))
        expectStatus(.deviceNotReady) { try client.setDmaEngineState(.stop, handles: [h]) }
        #expect(system.control(index).run, "the injected fault keeps RUN set")
        system.setFaults(FaultInjection())
        try client.setDmaEngineState(.stop, handles: [h])
        #expect(!system.control(index).run)
        try client.setDmaEngineState(.reset, handles: [h])
        try client.freeDmaBuffer(h)
        try client.freeDmaEngine(h)
    }

    @Test("After a Reset that timed out, Run is STATUS_DEVICE_NOT_READY until a Reset succeeds; then the engine runs")
    func runRefusedUntilResetSucceeds() throws {
        let (system, client, h, index) = try StateTests.stoppedEngine()
        system.setFaults(FaultInjection(srstNeverLatches: [index]))
        expectStatus(.deviceNotReady) { try client.setDmaEngineState(.reset, handles: [h]) }
        system.setFaults(FaultInjection())
        expectStatus(.deviceNotReady) { try client.setDmaEngineState(.run, handles: [h]) }
        #expect(!system.platform.withController { $0.isMoving(descriptor: index) })
        try client.setDmaEngineState(.reset, handles: [h])
        try client.setDmaEngineState(.stop, handles: [h])
        try client.setDmaEngineState(.run, handles: [h])
        system.advance(frames: 16)
        #expect(system.platform.withController { $0.isMoving(descriptor: index) })
        #expect(system.sd32(index, HDARegister.SD.lpib) == 16 * 4)
    }
}

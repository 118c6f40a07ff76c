import Azalia
import HDAController
import HDAudio
import HDAudioBus
import Testing

/// Statuses every routine can return that the other suites did not yet assert for that routine.
@Suite("Status coverage gaps")
struct CoverageGapTests {
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
        #expect(system.bus.checkInvariants().isEmpty)
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

    @Test("AllocateCaptureDmaEngine whose SRST never completes is STATUS_DEVICE_NOT_READY and keeps nothing")
    func captureResetFails() throws {
        let system = try makeSystem(.ich6)
        let client = try system.openInterface(codecAddress: 0, version: .base)
        let before = system.bus.resources()
        let pages = system.allocatedPages
        system.setFaults(FaultInjection(srstNeverLatches: [0]))   // input engine 0 is the first capture choice
        expectStatus(.deviceNotReady) { try client.allocateCaptureDmaEngine(codecAddress: 0, format: F.stereo48) }
        #expect(system.bus.resources() == before)
        #expect(system.allocatedPages == pages)
        system.setFaults(FaultInjection())
        let c = try client.allocateCaptureDmaEngine(codecAddress: 0, format: F.stereo48)
        try client.freeDmaEngine(c.handle)
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
        #expect(system.bus.checkInvariants().isEmpty)
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

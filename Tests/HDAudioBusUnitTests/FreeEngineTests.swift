import HDAudio
import HDAudioBus
import Testing
import TestSupport

@Suite("FreeDmaEngine")
struct FreeEngineTests {
    @Test("FreeDmaEngine returns the engine, its tag and its bandwidth")
    func freeReturnsEverything() throws {
        let system = try FakeSystem()
        let client = try system.openInterface(codecAddress: 0, version: .base)
        let empty = (try system.bus.resources())
        let r = try client.allocateRenderDmaEngine(format: F.cd, stripe: false)
        let c = try client.allocateCaptureDmaEngine(codecAddress: 1, format: F.cd)
        try client.freeDmaEngine(r.handle)
        try client.freeDmaEngine(c.handle)
        #expect((try system.bus.resources()) == empty)
        let index = system.bus.configuration.layout.indices(of: .output).lowerBound
        #expect(system.control(index).streamTag == 0)
    }

    @Test("FreeDmaEngine with a buffer attached is STATUS_INVALID_DEVICE_REQUEST (every kind of buffer)")
    func freeWithBuffer() throws {
        let system = try FakeSystem()
        let v2 = try system.openInterface(codecAddress: 0, version: .v2)
        let bdl = try system.openInterface(codecAddress: 0, version: .bdl)
        let a = try v2.allocateRenderDmaEngine(format: F.stereo48, stripe: false)
        let b = try v2.allocateRenderDmaEngine(format: F.stereo48, stripe: false)
        let c = try bdl.allocateRenderDmaEngine(format: F.stereo48, stripe: false)
        let plain = try v2.allocateDmaBuffer(a.handle, requestedBufferSize: 4096)
        let notified = try v2.allocateDmaBufferWithNotification(b.handle, notificationCount: 1, requestedBufferSize: 4096)
        _ = try bdl.allocateContiguousDmaBuffer(c.handle, requestedBufferSize: 4096)
        expectStatus(.invalidDeviceRequest) { try v2.freeDmaEngine(a.handle) }
        expectStatus(.invalidDeviceRequest) { try v2.freeDmaEngine(b.handle) }
        expectStatus(.invalidDeviceRequest) { try bdl.freeDmaEngine(c.handle) }
        #expect((try system.bus.resources()).engines.count == 3)
        try v2.freeDmaBuffer(a.handle)
        try v2.freeDmaBufferWithNotification(b.handle, bufferMdl: notified.mdl, bufferSize: notified.allocatedBufferSize)
        try bdl.freeContiguousDmaBuffer(c.handle)
        try v2.freeDmaEngine(a.handle)
        try v2.freeDmaEngine(b.handle)
        try bdl.freeDmaEngine(c.handle)
        _ = plain
        #expect(system.allocatedPages == 2)
    }

    @Test("FreeDmaEngine of an engine that is not in reset is STATUS_INVALID_DEVICE_REQUEST", arguments: [StreamState.stop, .run])
    func freeOutOfReset(state: StreamState) throws {
        let system = try FakeSystem()
        let client = try system.openInterface(codecAddress: 0, version: .base)
        let a = try client.allocateRenderDmaEngine(format: F.stereo48, stripe: false)
        _ = try client.allocateDmaBuffer(a.handle, requestedBufferSize: 4096)
        try client.setDmaEngineState(.stop, handles: [a.handle])
        if state == .run { try client.setDmaEngineState(.run, handles: [a.handle]) }
        expectStatus(.invalidDeviceRequest) { try client.freeDmaEngine(a.handle) }
        // Neither may the buffer go while the engine is out of reset.
        expectStatus(.invalidDeviceRequest) { try client.freeDmaBuffer(a.handle) }
        if state == .run { try client.setDmaEngineState(.stop, handles: [a.handle]) }
        try client.setDmaEngineState(.reset, handles: [a.handle])
        try client.freeDmaBuffer(a.handle)
        try client.freeDmaEngine(a.handle)
        #expect((try system.bus.resources()).engines.isEmpty)
    }


    @Test("FreeDmaEngine is INVALID_DEVICE_REQUEST while any kind of buffer is held, and frees the engine once it is released")
    func freeEngineWithEachBuffer() throws {
        let system = try FakeSystem()
        let baseline = system.allocatedPages
        let v2 = try system.openInterface(codecAddress: 0, version: .v2)
        let a = try v2.allocateRenderDmaEngine(format: F.stereo48, stripe: false)
        _ = try v2.allocateDmaBuffer(a.handle, requestedBufferSize: 4096)
        expectStatus(.invalidDeviceRequest) { try v2.freeDmaEngine(a.handle) }
        expectStatus(.invalidDeviceRequest) { try v2.freeDmaBufferWithNotification(a.handle, bufferMdl: MemoryDescriptorList(pages: [], byteCount: 0), bufferSize: 0) }
        try v2.freeDmaBuffer(a.handle)
        let n = try v2.allocateDmaBufferWithNotification(a.handle, notificationCount: 1, requestedBufferSize: 4096)
        expectStatus(.invalidDeviceRequest) { try v2.freeDmaEngine(a.handle) }
        expectStatus(.invalidDeviceRequest) { try v2.freeDmaBuffer(a.handle) }
        try v2.freeDmaBufferWithNotification(a.handle, bufferMdl: n.mdl, bufferSize: n.allocatedBufferSize)
        try v2.freeDmaEngine(a.handle)

        let bdl = try system.openInterface(codecAddress: 0, version: .bdl)
        let b = try bdl.allocateRenderDmaEngine(format: F.stereo48, stripe: false)
        let c = try bdl.allocateContiguousDmaBuffer(b.handle, requestedBufferSize: 4096)
        expectStatus(.invalidDeviceRequest) { try bdl.freeDmaEngine(b.handle) }   // not yet set up
        writeRawBdl(system.platform, at: c.bdlBuffer.address, [(c.dataBuffer.address, 2048, true), (c.dataBuffer.address + 2048, 2048, true)])
        _ = try bdl.setupDmaEngineWithBdl(b.handle, bufferLength: 4096, lvi: 1, isr: { _, _ in }, context: 0)
        expectStatus(.invalidDeviceRequest) { try bdl.freeDmaEngine(b.handle) }   // set up
        try bdl.setDmaEngineState(.stop, handles: [b.handle])
        expectStatus(.invalidDeviceRequest) { try bdl.freeContiguousDmaBuffer(b.handle) }   // not in reset
        try bdl.setDmaEngineState(.reset, handles: [b.handle])
        try bdl.freeContiguousDmaBuffer(b.handle)
        expectStatus(.invalidDeviceRequest) { try bdl.freeContiguousDmaBuffer(b.handle) }
        try bdl.freeDmaEngine(b.handle)
        #expect(system.allocatedPages == baseline)
        #expect((try system.bus.resources()).engines.isEmpty)
    }
}

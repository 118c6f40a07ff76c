import Azalia
import HDAController
import HDAudio
import HDAudioBus
import Testing
import TestSupport
import Synchronization

@Suite("AllocateDmaBuffer / AllocateDmaBufferWithNotification and their frees")
struct BufferTests {
    @Test("AllocateDmaBuffer programs CBL, LVI, FMT, the tag and the BDL and returns tag and FIFOS + 1",
          arguments: [ControllerProfile.ich6, .skylakePCH, .bidirectional4SDO])
    func allocateProgramsEngine(profile: ControllerProfile) throws {
        let system = try makeSystem(profile)
        let client = try system.openInterface(codecAddress: 0, version: .base)
        let format = StreamFormat(rate: 96000, bits: 24, channels: 2)
        _ = try client.allocateRenderDmaEngine(format: F.small, stripe: false)
        let a = try client.allocateRenderDmaEngine(format: format, stripe: false)
        let b = try client.allocateDmaBuffer(a.handle, requestedBufferSize: 10000)
        let index = try #require(system.engineIndex(tag: 2, .render))
        #expect(b.streamId == 2)
        #expect(b.fifoSize == UInt32(system.sd16(index, HDARegister.SD.fifos)) + 1)
        #expect(Int(b.fifoSize) == profile.fifoRule.bytes(for: try ConverterFormat(format), output: true))
        #expect(Int(system.sd32(index, HDARegister.SD.cbl)) == b.allocatedBufferSize)
        #expect(b.allocatedBufferSize % 8 == 0)
        #expect(system.sd16(index, HDARegister.SD.fmt) == (try ConverterFormat(format)).rawValue)
        let bdl = try ProgrammedBDL(platform: system.platform, index: index)
        _ = bdl.check(mdl: b.mdl, size: b.allocatedBufferSize)
        // Still in reset: nothing runs.
        #expect(!system.control(index).run)
    }

    @Test("A capture buffer on a bidirectional engine keeps DIR = input; a render one sets DIR = output")
    func bidirectionalDirection() throws {
        let system = try makeSystem(.bidirectional4SDO)
        let client = try system.openInterface(codecAddress: 0, version: .base)
        for _ in 0..<4 { _ = try client.allocateCaptureDmaEngine(codecAddress: 0, format: F.small) }
        let capture = try client.allocateCaptureDmaEngine(codecAddress: 1, format: F.stereo48)
        for _ in 0..<4 { _ = try client.allocateRenderDmaEngine(format: F.small, stripe: false) }
        let render = try client.allocateRenderDmaEngine(format: F.stereo48, stripe: true)
        _ = try client.allocateDmaBuffer(capture.handle, requestedBufferSize: 4096)
        _ = try client.allocateDmaBuffer(render.handle, requestedBufferSize: 4096)
        let bidi = ControllerProfile.bidirectional4SDO.layout.indices(of: .bidirectional)
        #expect(system.engineIndex(tag: 5, .capture) == bidi.lowerBound)
        #expect(system.engineIndex(tag: 5, .render) == bidi.lowerBound + 1)
        #expect(!system.control(bidi.lowerBound).directionOutput)
        #expect(system.control(bidi.lowerBound + 1).directionOutput)
        #expect(system.control(bidi.lowerBound + 1).stripe == .fourLines)
    }

    @Test("A request of 0 or a NotificationCount other than 1 or 2 is STATUS_INVALID_PARAMETER", arguments: [0, 3, -1, 100])
    func invalidParameters(count: Int) throws {
        let system = try makeSystem(.ich6)
        let client = try system.openInterface(codecAddress: 0, version: .v2)
        let a = try client.allocateRenderDmaEngine(format: F.stereo48, stripe: false)
        expectStatus(.invalidParameter) { try client.allocateDmaBufferWithNotification(a.handle, notificationCount: count, requestedBufferSize: 4096) }
        expectStatus(.invalidParameter) { try client.allocateDmaBufferWithNotification(a.handle, notificationCount: 1, requestedBufferSize: 0) }
        expectStatus(.invalidParameter) { try client.allocateDmaBuffer(a.handle, requestedBufferSize: 0) }
        expectStatus(.invalidParameter) { try client.allocateDmaBuffer(a.handle, requestedBufferSize: -5) }
        #expect(system.allocatedPages == 2)
    }

    @Test("A buffer on an engine that already holds one, or is out of reset, is STATUS_INVALID_DEVICE_REQUEST")
    func alreadyHasBuffer() throws {
        let system = try makeSystem(.ich6)
        let client = try system.openInterface(codecAddress: 0, version: .v2)
        let a = try client.allocateRenderDmaEngine(format: F.stereo48, stripe: false)
        _ = try client.allocateDmaBuffer(a.handle, requestedBufferSize: 4096)
        let pages = system.allocatedPages
        expectStatus(.invalidDeviceRequest) { try client.allocateDmaBuffer(a.handle, requestedBufferSize: 4096) }
        expectStatus(.invalidDeviceRequest) { try client.allocateDmaBufferWithNotification(a.handle, notificationCount: 2, requestedBufferSize: 4096) }
        try client.setDmaEngineState(.stop, handles: [a.handle])
        expectStatus(.invalidDeviceRequest) { try client.allocateDmaBuffer(a.handle, requestedBufferSize: 4096) }
        #expect(system.allocatedPages == pages)
    }

    @Test("Freeing a buffer the engine does not hold, or of the other kind, is STATUS_INVALID_DEVICE_REQUEST")
    func freeWrongKind() throws {
        let system = try makeSystem(.ich6)
        let client = try system.openInterface(codecAddress: 0, version: .v2)
        let a = try client.allocateRenderDmaEngine(format: F.stereo48, stripe: false)
        expectStatus(.invalidDeviceRequest) { try client.freeDmaBuffer(a.handle) }
        let n = try client.allocateDmaBufferWithNotification(a.handle, notificationCount: 1, requestedBufferSize: 4096)
        expectStatus(.invalidDeviceRequest) { try client.freeDmaBuffer(a.handle) }
        try client.freeDmaBufferWithNotification(a.handle, bufferMdl: n.mdl, bufferSize: n.allocatedBufferSize)
        expectStatus(.invalidDeviceRequest) {
            try client.freeDmaBufferWithNotification(a.handle, bufferMdl: n.mdl, bufferSize: n.allocatedBufferSize)
        }
        _ = try client.allocateDmaBuffer(a.handle, requestedBufferSize: 4096)
        expectStatus(.invalidDeviceRequest) {
            try client.freeDmaBufferWithNotification(a.handle, bufferMdl: n.mdl, bufferSize: n.allocatedBufferSize)
        }
        try client.freeDmaBuffer(a.handle)
    }

    @Test("FreeDmaBufferWithNotification with an MDL or size that is not the buffer's is STATUS_INVALID_PARAMETER")
    func freeWithWrongMdl() throws {
        let system = try makeSystem(.ich6)
        let client = try system.openInterface(codecAddress: 0, version: .v2)
        let a = try client.allocateRenderDmaEngine(format: F.stereo48, stripe: false)
        let n = try client.allocateDmaBufferWithNotification(a.handle, notificationCount: 2, requestedBufferSize: 8192)
        expectStatus(.invalidParameter) { try client.freeDmaBufferWithNotification(a.handle, bufferMdl: n.mdl, bufferSize: n.allocatedBufferSize - 4) }
        let other = MemoryDescriptorList(pages: n.mdl.pages.reversed(), byteCount: n.mdl.byteCount)
        expectStatus(.invalidParameter) { try client.freeDmaBufferWithNotification(a.handle, bufferMdl: other, bufferSize: n.allocatedBufferSize) }
        #expect((try system.bus.resources()).engines.first?.hasBuffer == true)
        try client.freeDmaBufferWithNotification(a.handle, bufferMdl: n.mdl, bufferSize: n.allocatedBufferSize)
    }

    @Test("A buffer can be freed and allocated again any number of times; pages are all returned")
    func reallocateManyTimes() throws {
        let system = try makeSystem(.ich6)
        let client = try system.openInterface(codecAddress: 0, version: .v2)
        let a = try client.allocateRenderDmaEngine(format: F.cd, stripe: false)
        let baseline = system.allocatedPages
        for round in 0..<30 {
            if round % 2 == 0 {
                let b = try client.allocateDmaBuffer(a.handle, requestedBufferSize: 1000 * (round + 1))
                #expect(system.allocatedPages == baseline + b.mdl.pages.count + 1)
                try client.freeDmaBuffer(a.handle)
            } else {
                let b = try client.allocateDmaBufferWithNotification(a.handle, notificationCount: 2, requestedBufferSize: 3000 * round)
                try client.freeDmaBufferWithNotification(a.handle, bufferMdl: b.mdl, bufferSize: b.allocatedBufferSize)
            }
            #expect(system.allocatedPages == baseline)
        }
    }

    @Test("Guest memory running out is STATUS_INSUFFICIENT_RESOURCES with nothing left allocated")
    func outOfMemory() throws {
        let system = try makeSystem(.ich6)
        let client = try system.openInterface(codecAddress: 0, version: .v2)
        let a = try client.allocateRenderDmaEngine(format: F.stereo48, stripe: false)
        let baseline = system.allocatedPages
        // Room for the data pages of 16 KiB but not for its BDL page too, then for nothing.
        for limit in [baseline + 4, baseline + 2, baseline] {
            system.setPageLimit(limit)
            expectStatus(.insufficientResources) { try client.allocateDmaBuffer(a.handle, requestedBufferSize: 16384) }
            expectStatus(.insufficientResources) { try client.allocateDmaBufferWithNotification(a.handle, notificationCount: 2, requestedBufferSize: 16384) }
            #expect(system.allocatedPages == baseline)
        }
        system.setPageLimit(nil)
        let b = try client.allocateDmaBufferWithNotification(a.handle, notificationCount: 2, requestedBufferSize: 16384)
        #expect(b.allocatedBufferSize == 16384)
        #expect((try system.bus.resources()).engines.count == 1)
    }

    @Test("An SRST handshake that does not complete is STATUS_DEVICE_NOT_READY: engine safe, buffer not kept, nothing leaked",
          arguments: [false, true])
    func srstTimeout(neverClears: Bool) throws {
        let system = try makeSystem(.skylakePCH)
        let client = try system.openInterface(codecAddress: 0, version: .v2)
        let a = try client.allocateRenderDmaEngine(format: F.stereo48, stripe: false)
        try cycleBuffer(client, a.handle)
        let index = try #require(system.engineIndex(tag: 1, .render))
        let baseline = system.allocatedPages
        system.setFaults(neverClears ? FaultInjection(srstNeverClears: [index]) : FaultInjection(srstNeverLatches: [index]))
        let start = system.frame
        expectStatus(.deviceNotReady) { try client.allocateDmaBufferWithNotification(a.handle, notificationCount: 1, requestedBufferSize: 8192) }
        let waited = system.frame - start
        // Each phase polls at most 300 us of link time (15 frames): one phase or two.
        #expect(waited >= 14 && waited <= (neverClears ? 32 : 16))
        #expect(system.allocatedPages == baseline)
        #expect(!system.control(index).run)
        #expect(system.platform.read32(HDARegister.intctl) & (1 << UInt32(index)) == 0)
        #expect((try system.bus.resources()).engines.first?.hasBuffer == false)
        expectStatus(.deviceNotReady) { try client.allocateDmaBuffer(a.handle, requestedBufferSize: 8192) }
        #expect(system.allocatedPages == baseline)
        // The engine is still the client's and can be freed; the fault gone, it works again.
        system.setFaults(FaultInjection())
        _ = try client.allocateDmaBuffer(a.handle, requestedBufferSize: 8192)
        try client.freeDmaBuffer(a.handle)
        try client.freeDmaEngine(a.handle)
        #expect(system.allocatedPages == baseline)
        #expect((try system.bus.checkInvariants()).isEmpty)
    }

    @Test("An engine untouched since its allocation's SRST handshake gets its buffer without a second one; any other runs it",
          arguments: [false, true])
    func handshakeSkippedOnlyWhenProvablyInReset(neverClears: Bool) throws {
        let system = try makeSystem(.skylakePCH)
        let client = try system.openInterface(codecAddress: 0, version: .v2)
        let a = try client.allocateRenderDmaEngine(format: F.stereo48, stripe: false)
        let index = try #require(system.engineIndex(tag: 1, .render))
        let fault = neverClears ? FaultInjection(srstNeverClears: [index]) : FaultInjection(srstNeverLatches: [index])
        // Straight after the allocation: the engine has not left reset, no handshake runs
        // (a stuck SRST is not touched, no link time passes) and the buffer is programmed.
        system.setFaults(fault)
        let start = system.frame
        let b = try client.allocateDmaBufferWithNotification(a.handle, notificationCount: 2, requestedBufferSize: 8192)
        #expect(system.frame == start)
        #expect(system.platform.read32(HDARegister.streamDescriptor(index) + HDARegister.SD.cbl) == UInt32(b.allocatedBufferSize))
        #expect(system.platform.read32(HDARegister.intctl) & (1 << UInt32(index)) != 0)
        try client.freeDmaBufferWithNotification(a.handle, bufferMdl: b.mdl, bufferSize: b.allocatedBufferSize)
        // After a buffer (programmed, then freed) the engine is no longer provably in reset:
        // the handshake runs and the fault is seen.
        expectStatus(.deviceNotReady) { try client.allocateDmaBuffer(a.handle, requestedBufferSize: 8192) }
        system.setFaults(FaultInjection())
        _ = try client.allocateDmaBuffer(a.handle, requestedBufferSize: 8192)
        try client.freeDmaBuffer(a.handle)
        try client.freeDmaEngine(a.handle)
        #expect((try system.bus.checkInvariants()).isEmpty)
    }

    @Test("DEVICE_NOT_READY from AllocateDmaBuffer and from SetupDmaEngineWithBdl leaks nothing; the engine still frees")
    func deviceNotReadyAccounting() throws {
        let system = try makeSystem(.ich6)
        let v2 = try system.openInterface(codecAddress: 0, version: .v2)
        let a = try v2.allocateRenderDmaEngine(format: F.stereo48, stripe: false)
        try cycleBuffer(v2, a.handle)
        let index = try #require(system.engineIndex(tag: 1, .render))
        let baseline = system.allocatedPages
        for faults in [FaultInjection(srstNeverLatches: [index]), FaultInjection(srstNeverClears: [index])] {
            system.setFaults(faults)
            let start = system.frame
            expectStatus(.deviceNotReady) { try v2.allocateDmaBufferWithNotification(a.handle, notificationCount: 2, requestedBufferSize: 65536) }
            // At most 300 us per phase (two phases), in link time.
            #expect(system.frame - start <= LinkTiming.frames(microseconds: 2 * 303) + 1)
            #expect(system.allocatedPages == baseline)
            #expect((try system.bus.resources()).engines.first?.hasBuffer == false)
            system.setFaults(FaultInjection())
        }
        let r = try v2.allocateDmaBuffer(a.handle, requestedBufferSize: 4096)
        #expect(r.allocatedBufferSize == 4096)
        try v2.freeDmaBuffer(a.handle)
        try v2.freeDmaEngine(a.handle)
        #expect(system.allocatedPages == baseline)

        // The BDL interface: the contiguous buffer stays the client's to free; nothing else is kept.
        let bdl = try system.openInterface(codecAddress: 0, version: .bdl)
        let b = try bdl.allocateRenderDmaEngine(format: F.stereo48, stripe: false)
        let bIndex = try #require(system.engineIndex(tag: 1, .render))
        let c = try bdl.allocateContiguousDmaBuffer(b.handle, requestedBufferSize: 4096)
        writeRawBdl(system.platform, at: c.bdlBuffer.address, [(c.dataBuffer.address, 2048, true), (c.dataBuffer.address + 2048, 2048, true)])
        system.setFaults(FaultInjection(srstNeverClears: [bIndex]))
        expectStatus(.deviceNotReady) { try bdl.setupDmaEngineWithBdl(b.handle, bufferLength: 4096, lvi: 1, isr: { _, _ in }, context: 0) }
        system.setFaults(FaultInjection())
        #expect(system.platform.read32(HDARegister.intctl) & (1 << UInt32(bIndex)) == 0)
        expectStatus(.invalidDeviceRequest) { try bdl.setDmaEngineState(.stop, handles: [b.handle]) }   // not set up
        #expect(system.allocatedPages == baseline + 2)
        try bdl.freeContiguousDmaBuffer(b.handle)
        try bdl.freeDmaEngine(b.handle)
        #expect(system.allocatedPages == baseline)
    }

    @Test("Guest memory running out between the data pages and the BDL page leaves nothing allocated")
    func outOfMemoryBetweenDataAndBdl() throws {
        let system = try makeSystem(.ich6)
        let client = try system.openInterface(codecAddress: 0, version: .v2)
        let a = try client.allocateRenderDmaEngine(format: F.stereo48, stripe: false)
        let baseline = system.allocatedPages
        system.setPageLimit(baseline + 4)   // exactly the 4 data pages of 16 KiB, no BDL page
        expectStatus(.insufficientResources) { try client.allocateDmaBufferWithNotification(a.handle, notificationCount: 2, requestedBufferSize: 16384) }
        expectStatus(.insufficientResources) { try client.allocateDmaBuffer(a.handle, requestedBufferSize: 1 << 20) }
        #expect(system.allocatedPages == baseline)
        system.setPageLimit(baseline + 5)
        let b = try client.allocateDmaBufferWithNotification(a.handle, notificationCount: 2, requestedBufferSize: 16384)
        #expect(b.allocatedBufferSize == 16384 && system.allocatedPages == baseline + 5)
        system.setPageLimit(nil)
    }
}

/// A codec that keeps every byte sent on SDO with tag 1.
final class RecordingCodec: LinkCodec {
    var received: [UInt8] = []
    func linkReceive(tag: UInt8, format: ConverterFormat, frame: UInt64, blocks: Int, data: UnsafeRawBufferPointer) {
        if tag == 1 { received.append(contentsOf: data) }
    }
    func linkTransmit(tag: UInt8, format: ConverterFormat, frame: UInt64, blocks: Int, into data: UnsafeMutableRawBufferPointer) -> Bool { false }
    func linkCommand(_ verb: UInt32) -> UInt32? { nil }
}

@Suite("DMA data through the MDL")
struct DmaDataTests {
    @Test("Bytes written through the MDL reach the codec in order: the engine reads the scattered pages as one buffer")
    func mdlRoundTrip() throws {
        let system = try AzaliaSystem(profile: .ich6, memoryPages: 512, codecs: [0: RecordingCodec()])
        let client = try system.openInterface(codecAddress: 0, version: .v2)
        let a = try client.allocateRenderDmaEngine(format: F.stereo48, stripe: false)
        let b = try client.allocateDmaBufferWithNotification(a.handle, notificationCount: 2, requestedBufferSize: 20000)
        #expect(b.mdl.pages.count > 1)
        let data = (0..<b.allocatedBufferSize).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 8) }
        let wrote = data.withUnsafeBytes { system.platform.write($0, to: b.mdl, at: 0) }
        #expect(wrote)
        var back = [UInt8](repeating: 0, count: data.count - 100)
        let read = back.withUnsafeMutableBytes { system.platform.read(b.mdl, at: 100, into: $0) }
        #expect(read)
        #expect(back == Array(data[100...]))
        let past = data.withUnsafeBytes { system.platform.write($0, to: b.mdl, at: 1) }
        #expect(!past)
        try client.setDmaEngineState(.stop, handles: [a.handle])
        try client.setDmaEngineState(.run, handles: [a.handle])
        // 4 bytes per frame: one and a half times round the buffer.
        let frames = UInt64(b.allocatedBufferSize / 4 * 3 / 2)
        system.advance(frames: frames)
        let received = system.platform.withController { ($0.codec(at: 0) as? RecordingCodec)?.received ?? [] }
        #expect(received.count == Int(frames) * 4)
        #expect(received == data + data.prefix(received.count - data.count))
    }

    @Test("Writing or reading a DMA buffer through its MDL at an offset near Int.max is refused (false), never a trap")
    func mdlAccessAtHugeOffset() throws {
        let system = try makeSystem(.ich6)
        let client = try system.openInterface(codecAddress: 0, version: .base)
        let a = try client.allocateRenderDmaEngine(format: F.stereo48, stripe: false)
        let b = try client.allocateDmaBuffer(a.handle, requestedBufferSize: 4096)
        var bytes: [UInt8] = [1, 2, 3, 4]
        for offset in [Int.max, Int.max - 1, -1, Int.min, b.allocatedBufferSize - 3] {
            #expect(bytes.withUnsafeBytes { system.platform.write($0, to: b.mdl, at: offset) } == false, "offset \(offset)")
            #expect(bytes.withUnsafeMutableBytes { system.platform.read(b.mdl, at: offset, into: $0) } == false, "offset \(offset)")
        }
    }
}

import Azalia
import HDAController
import HDAudio
import HDAudioBus
import Synchronization
import Testing
import TestSupport

/// Records BDL ISR calls.
final class IsrLog: Sendable {
    let calls = PThreadMutex<[(mask: UInt32, context: UInt, irql: IRQL)]>([])
    var masks: [UInt32] { calls.withLock { $0.map(\.mask) } }
}

@Suite("BDL interface (AllocateContiguousDmaBuffer, SetupDmaEngineWithBdl, FreeContiguousDmaBuffer)")
struct BdlInterfaceTests {
    /// A render engine set up on a 4096-byte contiguous buffer of two 2048-byte entries (IOC
    /// on the second), with an ISR that logs every call and its context.
    static func loggedEngine(_ system: AzaliaSystem, _ client: HDAudioBDLInterface,
                             context: UInt) throws -> (DmaEngineAllocation, ContiguousDmaBuffer, IsrLog) {
        let a = try client.allocateRenderDmaEngine(format: F.stereo48, stripe: false)
        let b = try client.allocateContiguousDmaBuffer(a.handle, requestedBufferSize: 4096)
        writeBdl(system, b, [(0, 2048, false), (2048, 2048, true)])
        let log = IsrLog()
        _ = try client.setupDmaEngineWithBdl(a.handle, bufferLength: 4096, lvi: 1, isr: { mask, context in
            log.calls.withLock { $0.append((mask, context, .dirql)) }
        }, context: context)
        return (a, b, log)
    }

    /// Writes a BDL of `entries` (offset into the data buffer, length, IOC) into the BDL page.
    static func writeBdl(_ system: AzaliaSystem, _ buffer: ContiguousDmaBuffer, _ entries: [(Int, Int, Bool)]) {
        var bytes: [UInt8] = []
        for (offset, length, ioc) in entries {
            bytes += BDLEntry(address: buffer.dataBuffer.address + UInt64(offset), length: UInt32(length), interruptOnCompletion: ioc).bytes
        }
        system.platform.writeMemory(buffer.bdlBuffer.address, bytes: bytes)
    }

    @Test("AllocateContiguousDmaBuffer returns a contiguous data buffer and one page-aligned BDL page, neither programmed")
    func contiguous() throws {
        let system = try makeSystem(.ich6)
        let client = try system.openInterface(codecAddress: 0, version: .bdl)
        let a = try client.allocateRenderDmaEngine(format: F.stereo48, stripe: false)
        let baseline = system.allocatedPages
        let b = try client.allocateContiguousDmaBuffer(a.handle, requestedBufferSize: 10000)
        #expect(b.dataBuffer.length == 12288)
        #expect(b.dataBuffer.address % 4096 == 0 && b.bdlBuffer.address % 4096 == 0 && b.bdlBuffer.length == 4096)
        #expect(system.allocatedPages == baseline + 4)
        let index = try #require(system.engineIndex(tag: 1, .render))
        #expect(system.sd32(index, HDARegister.SD.bdpl) == 0 && system.sd32(index, HDARegister.SD.cbl) == 0)
        // Contiguous: every byte of the data buffer is guest RAM, written and read back in one piece.
        let pattern = (0..<b.dataBuffer.length).map { UInt8(truncatingIfNeeded: $0 * 7) }
        #expect(system.platform.writeMemory(b.dataBuffer.address, bytes: pattern))
        #expect(system.platform.readMemory(b.dataBuffer.address, count: pattern.count) == pattern)
    }

    @Test("AllocateContiguousDmaBuffer statuses: 0 is INVALID_PARAMETER, twice is INVALID_DEVICE_REQUEST, no memory is INSUFFICIENT_RESOURCES")
    func contiguousStatuses() throws {
        let system = try makeSystem(.ich6)
        let client = try system.openInterface(codecAddress: 0, version: .bdl)
        let a = try client.allocateRenderDmaEngine(format: F.stereo48, stripe: false)
        let baseline = system.allocatedPages
        expectStatus(.invalidParameter) { try client.allocateContiguousDmaBuffer(a.handle, requestedBufferSize: 0) }
        system.setPageLimit(baseline + 3)
        expectStatus(.insufficientResources) { try client.allocateContiguousDmaBuffer(a.handle, requestedBufferSize: 3 * 4096) }
        expectStatus(.insufficientResources) { try client.allocateContiguousDmaBuffer(a.handle, requestedBufferSize: 4 * 4096) }
        expectStatus(.insufficientResources) { try client.allocateContiguousDmaBuffer(a.handle, requestedBufferSize: Int.max) }
        #expect(system.allocatedPages == baseline)
        system.setPageLimit(nil)
        _ = try client.allocateContiguousDmaBuffer(a.handle, requestedBufferSize: 4096)
        expectStatus(.invalidDeviceRequest) { try client.allocateContiguousDmaBuffer(a.handle, requestedBufferSize: 4096) }
        try client.freeContiguousDmaBuffer(a.handle)
        #expect(system.allocatedPages == baseline)
    }

    @Test("SetupDmaEngineWithBdl programs the client's BDL and leaves the engine in reset")
    func setupPrograms() throws {
        let system = try makeSystem(.ich6)
        let client = try system.openInterface(codecAddress: 0, version: .bdl)
        let a = try client.allocateRenderDmaEngine(format: F.stereo48, stripe: false)
        let b = try client.allocateContiguousDmaBuffer(a.handle, requestedBufferSize: 8192)
        BdlInterfaceTests.writeBdl(system, b, [(0, 2048, true), (2048, 2048, false), (4096, 4096, true)])
        let s = try client.setupDmaEngineWithBdl(a.handle, bufferLength: 8192, lvi: 2, isr: { _, _ in }, context: 7)
        let index = try #require(system.engineIndex(tag: 1, .render))
        #expect(s.streamId == 1)
        #expect(s.fifoSize == UInt32(system.sd16(index, HDARegister.SD.fifos)) + 1)
        #expect(system.sd32(index, HDARegister.SD.cbl) == 8192)
        #expect(system.sd16(index, HDARegister.SD.lvi) == 2)
        // BDPL names the bus's own copy of the checked entries, not the client's BDL page.
        let programmed = UInt64(system.sd32(index, HDARegister.SD.bdpu)) << 32 | UInt64(system.sd32(index, HDARegister.SD.bdpl))
        #expect(programmed != b.bdlBuffer.address)
        #expect(readRawBdl(system, at: programmed, count: 3) == readRawBdl(system, at: b.bdlBuffer.address, count: 3))
        let ctl = system.control(index)
        #expect(!ctl.run && !ctl.streamReset && ctl.interruptOnCompletion && ctl.fifoErrorInterrupt && ctl.descriptorErrorInterrupt)
        #expect(try system.bus.resources().engines.first?.state == .reset)
    }

    @Test("SetupDmaEngineWithBdl rejects a bad Lvi, BufferLength or BDL with STATUS_INVALID_PARAMETER",
          arguments: [
            ("lvi 0", UInt16(0), UInt32(8192), [(0, 8192, true)]),
            ("lvi 256", 256, 8192, [(0, 4096, true), (4096, 4096, true)]),
            ("length 0", 1, 0, [(0, 4096, true), (4096, 4096, true)]),
            ("length not whole blocks", 1, 8190, [(0, 4096, true), (4096, 4094, true)]),
            ("lengths do not add up", 1, 8192, [(0, 4096, true), (4096, 2048, true)]),
            ("entry not 128-byte aligned", 1, 8192, [(0, 4000, true), (4000, 4192, true)]),
            ("entry past the data buffer", 1, 8192, [(0, 4096, true), (8192, 4096, true)]),
            ("entry of length 0", 2, 8192, [(0, 8192, true), (0, 0, true), (0, 0, false)]),
          ] as [(String, UInt16, UInt32, [(Int, Int, Bool)])])
    func setupRejects(name: String, lvi: UInt16, length: UInt32, entries: [(Int, Int, Bool)]) throws {
        let system = try makeSystem(.ich6)
        let client = try system.openInterface(codecAddress: 0, version: .bdl)
        let a = try client.allocateRenderDmaEngine(format: F.stereo48, stripe: false)
        let b = try client.allocateContiguousDmaBuffer(a.handle, requestedBufferSize: 8192)
        BdlInterfaceTests.writeBdl(system, b, entries)
        expectStatus(.invalidParameter) { try client.setupDmaEngineWithBdl(a.handle, bufferLength: length, lvi: lvi, isr: { _, _ in }, context: 0) }
        expectStatus(.invalidDeviceRequest) { try client.setDmaEngineState(.stop, handles: [a.handle]) }
    }

    @Test("SetupDmaEngineWithBdl without a contiguous buffer, or out of reset, is STATUS_INVALID_DEVICE_REQUEST")
    func setupNeedsBufferInReset() throws {
        let system = try makeSystem(.ich6)
        let client = try system.openInterface(codecAddress: 0, version: .bdl)
        let a = try client.allocateRenderDmaEngine(format: F.stereo48, stripe: false)
        expectStatus(.invalidDeviceRequest) { try client.setupDmaEngineWithBdl(a.handle, bufferLength: 4096, lvi: 1, isr: { _, _ in }, context: 0) }
        let b = try client.allocateContiguousDmaBuffer(a.handle, requestedBufferSize: 4096)
        BdlInterfaceTests.writeBdl(system, b, [(0, 2048, true), (2048, 2048, true)])
        _ = try client.setupDmaEngineWithBdl(a.handle, bufferLength: 4096, lvi: 1, isr: { _, _ in }, context: 0)
        try client.setDmaEngineState(.stop, handles: [a.handle])
        expectStatus(.invalidDeviceRequest) { try client.setupDmaEngineWithBdl(a.handle, bufferLength: 4096, lvi: 1, isr: { _, _ in }, context: 0) }
        expectStatus(.invalidDeviceRequest) { try client.freeContiguousDmaBuffer(a.handle) }
        try client.setDmaEngineState(.run, handles: [a.handle])
        expectStatus(.invalidDeviceRequest) { try client.freeContiguousDmaBuffer(a.handle) }
        try client.setDmaEngineState(.stop, handles: [a.handle])
        try client.setDmaEngineState(.reset, handles: [a.handle])
        try client.freeContiguousDmaBuffer(a.handle)
        expectStatus(.invalidDeviceRequest) { try client.freeContiguousDmaBuffer(a.handle) }
    }

    @Test("SetupDmaEngineWithBdl whose SRST handshake fails is STATUS_DEVICE_NOT_READY; the buffer stays the client's, unprogrammed")
    func setupSrstFault() throws {
        let system = try makeSystem(.ich6)
        let client = try system.openInterface(codecAddress: 0, version: .bdl)
        let a = try client.allocateRenderDmaEngine(format: F.stereo48, stripe: false)
        let b = try client.allocateContiguousDmaBuffer(a.handle, requestedBufferSize: 4096)
        BdlInterfaceTests.writeBdl(system, b, [(0, 2048, true), (2048, 2048, true)])
        let index = try #require(system.engineIndex(tag: 1, .render))
        system.setFaults(FaultInjection(srstNeverLatches: [index]))
        expectStatus(.deviceNotReady) { try client.setupDmaEngineWithBdl(a.handle, bufferLength: 4096, lvi: 1, isr: { _, _ in }, context: 0) }
        expectStatus(.invalidDeviceRequest) { try client.setDmaEngineState(.stop, handles: [a.handle]) }
        system.setFaults(FaultInjection())
        try client.freeContiguousDmaBuffer(a.handle)
        try client.freeDmaEngine(a.handle)
        #expect(system.allocatedPages == 2)
    }

    @Test("The BDL ISR runs at DIRQL with only BCIS (bit 2) at each IOC, and the client's context, to the frame")
    func isrOnIoc() throws {
        let system = try makeSystem(.ich6)
        let client = try system.openInterface(codecAddress: 0, version: .bdl)
        let a = try client.allocateRenderDmaEngine(format: F.stereo48, stripe: false)
        let b = try client.allocateContiguousDmaBuffer(a.handle, requestedBufferSize: 8192)
        BdlInterfaceTests.writeBdl(system, b, [(0, 1024, true), (1024, 3072, false), (4096, 4096, true)])
        let log = IsrLog()
        let platform = system.platform
        let passiveFromIsr = PThreadMutex<[NTStatus]>([])
        _ = try client.setupDmaEngineWithBdl(a.handle, bufferLength: 8192, lvi: 2, isr: { mask, context in
            log.calls.withLock { $0.append((mask, context, platform.currentIRQL)) }
            do {
                _ = try client.allocateRenderDmaEngine(format: F.small, stripe: false)
            } catch let status as NTStatus { passiveFromIsr.withLock { $0.append(status) } } catch {}
        }, context: 0xC0FFEE)
        try client.setDmaEngineState(.stop, handles: [a.handle])
        try client.setDmaEngineState(.run, handles: [a.handle])
        // IOC after 1024 bytes (frame 256) and after 8192 bytes (frame 2048), every 2048 frames.
        system.advance(frames: 255)
        #expect(log.masks.isEmpty)
        system.advance(frames: 1)
        #expect(log.masks == [0x04])
        system.advance(frames: 2048 - 256 - 1)
        #expect(log.masks.count == 1)
        system.advance(frames: 1)
        #expect(log.masks == [0x04, 0x04])
        system.advance(frames: 2048 * 3)
        let calls = log.calls.withLock { $0 }
        #expect(calls.count == 8)
        #expect(calls.allSatisfy { $0.mask == 0x04 && $0.context == 0xC0FFEE && $0.irql == .dirql })
        #expect(passiveFromIsr.withLock { $0 }.allSatisfy { $0 == .unsuccessful })
        #expect(passiveFromIsr.withLock { $0.count } == 8)
    }

    @Test("The BDL ISR is called for FIFO errors with bit 3, and never sees other status bits")
    func isrOnFifoError() throws {
        let system = try makeSystem(.ich6)
        let client = try system.openInterface(codecAddress: 0, version: .bdl)
        let (a, _, log) = try BdlInterfaceTests.loggedEngine(system, client, context: 1)
        let index = try #require(system.engineIndex(tag: 1, .render))
        system.setFaults(FaultInjection(fifoErrors: [index]))
        try client.setDmaEngineState(.stop, handles: [a.handle])
        try client.setDmaEngineState(.run, handles: [a.handle])
        system.advance(frames: 1024)
        let masks = log.masks
        #expect(masks.first == 0x08)
        #expect(masks.last == 0x04)
        #expect(masks.allSatisfy { $0 & ~UInt32(StreamStatus.interruptCauses.rawValue) == 0 && $0 != 0 })
        // The status bits were cleared: SDnSTS shows no error left.
        #expect(system.platform.read8(HDARegister.streamDescriptor(index) + HDARegister.SD.sts) & StreamStatus.interruptCauses.rawValue == 0)
    }

    @Test("A BDL rewritten after SetupDmaEngineWithBdl does not reach the engine: it runs the checked entries, with no descriptor error")
    func rewrittenBdlIgnored() throws {
        let system = try makeSystem(.ich6)
        let client = try system.openInterface(codecAddress: 0, version: .bdl)
        let (a, b, log) = try BdlInterfaceTests.loggedEngine(system, client, context: 2)
        // The guest's mistake (or attack): the second entry now names memory that is not RAM.
        system.platform.writeMemory(b.bdlBuffer.address + 16, bytes: BDLEntry(address: 0x80, length: 2048, interruptOnCompletion: true).bytes)
        try client.setDmaEngineState(.stop, handles: [a.handle])
        try client.setDmaEngineState(.run, handles: [a.handle])
        system.advance(frames: 1100)   // 4096 bytes at 192 bytes a frame: past the IOC entry
        #expect(log.masks.first == 0x04 && log.masks.allSatisfy { $0 == 0x04 })
        let index = try #require(system.engineIndex(tag: 1, .render))
        #expect(system.control(index).run)
        try client.setDmaEngineState(.stop, handles: [a.handle])
        try client.setDmaEngineState(.reset, handles: [a.handle])
        try client.freeContiguousDmaBuffer(a.handle)
    }


    enum BadBdl: String, CaseIterable, Sendable {
        case misaligned, sumTooSmall, sumTooLarge, lviBeyondWritten, beforeBuffer, pastBuffer, straddlesEnd, wrapsAddressSpace,
             zeroLength, bdlPage, lengthNotBlocks
    }

    @Test("SetupDmaEngineWithBdl refuses a bad client BDL with INVALID_PARAMETER, programs nothing and keeps the buffer",
          arguments: BadBdl.allCases)
    func badClientBdl(_ kind: BadBdl) throws {
        let system = try makeSystem(.ich6)
        let client = try system.openInterface(codecAddress: 0, version: .bdl)
        let a = try client.allocateRenderDmaEngine(format: StreamFormat(rate: 48000, bits: 16, channels: 3), stripe: false)   // 6-byte blocks
        let c = try client.allocateContiguousDmaBuffer(a.handle, requestedBufferSize: 8192)
        let d = c.dataBuffer.address, end = d + UInt64(c.dataBuffer.length)
        let pages = system.allocatedPages
        var entries: [(UInt64, UInt32, Bool)] = [(d, 3072, true), (d + 4096, 3072, true)]
        var length: UInt32 = 6144
        var lvi: UInt16 = 1
        switch kind {
        case .misaligned: entries[1].0 = d + 4096 + 64
        case .sumTooSmall: length = 6144 + 6
        case .sumTooLarge: length = 6144 - 6
        case .lviBeyondWritten: lvi = 2; length = 6144
        case .beforeBuffer: entries[0].0 = d - 4096
        case .pastBuffer: entries[1].0 = end
        case .straddlesEnd: entries[1] = (end - 1024, 3072, true)
        case .wrapsAddressSpace: entries[1] = (UInt64.max - 127, 3072, true)
        case .zeroLength: entries.append((d, 0, false)); lvi = 2
        case .bdlPage: entries[1].0 = c.bdlBuffer.address
        case .lengthNotBlocks: entries = [(d, 3000, true), (d + 4096, 3001, true)]; length = 6001
        }
        writeRawBdl(system.platform, at: c.bdlBuffer.address, entries)
        expectStatus(.invalidParameter) {
            try client.setupDmaEngineWithBdl(a.handle, bufferLength: length, lvi: lvi, isr: { _, _ in }, context: 0)
        }
        let index = try #require(system.engineIndex(tag: 1, .render))
        #expect(system.sd32(index, HDARegister.SD.bdpl) == 0 && system.sd32(index, HDARegister.SD.cbl) == 0)
        expectStatus(.invalidDeviceRequest) { try client.setDmaEngineState(.stop, handles: [a.handle]) }
        #expect(system.allocatedPages == pages)
        try client.freeContiguousDmaBuffer(a.handle)
        try client.freeDmaEngine(a.handle)
    }

    @Test("SetupDmaEngineWithBdl: Lvi 0 and Lvi 256 are INVALID_PARAMETER; Lvi 255 (a full BDL page) is accepted")
    func lviBounds() throws {
        let system = try makeSystem(.ich6)
        let client = try system.openInterface(codecAddress: 0, version: .bdl)
        let a = try client.allocateRenderDmaEngine(format: F.stereo48, stripe: false)
        let c = try client.allocateContiguousDmaBuffer(a.handle, requestedBufferSize: 256 * 128)
        writeRawBdl(system.platform, at: c.bdlBuffer.address, (0..<256).map { (c.dataBuffer.address + UInt64($0) * 128, 128, $0 % 64 == 63) })
        expectStatus(.invalidParameter) { try client.setupDmaEngineWithBdl(a.handle, bufferLength: 128, lvi: 0, isr: { _, _ in }, context: 0) }
        expectStatus(.invalidParameter) { try client.setupDmaEngineWithBdl(a.handle, bufferLength: 257 * 128, lvi: 256, isr: { _, _ in }, context: 0) }
        let s = try client.setupDmaEngineWithBdl(a.handle, bufferLength: 256 * 128, lvi: 255, isr: { _, _ in }, context: 0)
        #expect(s.streamId == 1)
        try client.setDmaEngineState(.stop, handles: [a.handle]); try client.setDmaEngineState(.run, handles: [a.handle])
        system.advance(frames: 256 * 32 + 10)   // one wrap at 4 bytes per frame
        let index = try #require(system.engineIndex(tag: 1, .render))
        #expect(system.platform.withController { $0.statistics(ofDescriptor: index).completions } == 4)
    }
}
